// The search interactions: type search (GET/POST _search), system search (`GET [base]?_type=`)
// and compartment search (`GET Patient/123/Observation`). All three parse into one SearchRequest,
// get the caller's access restriction, run as one statement (plus includes) and are audited.
import type { AccessKind } from './access/access-control.js';
import { allow, audit, canRead, checkVisible, restrictSearch } from './access/enforce.js';
import { Invalid } from './errors.js';
import type { Interaction, InteractionContext, InteractionResult } from './interactions.js';
import { searchsetBundle } from './search/bundle.js';
import { valueFilters, type SearchRequest } from './search/model.js';
import { parseSearchRequest } from './search/parse.js';
import { expandGoldenPatients } from './module-operations.js';

export async function searchType(ctx: InteractionContext, req: Interaction, type: string): Promise<InteractionResult> {
  allow(ctx, 'search-type', type);
  const request = parseSearchRequest(type, req.query, ctx.repo.registry, ctx.limits, req.lenient);
  return runSearch(ctx, req, request, 'search-type', type);
}

/** `GET [base]?_type=A,B&...`: parameters must be common to the types (all types without `_type`). */
export async function searchSystem(ctx: InteractionContext, req: Interaction): Promise<InteractionResult> {
  const typeParam = req.query.filter(([name]) => name === '_type').flatMap(([, v]) => v.split(','));
  for (const t of typeParam) if (!ctx.repo.registry.isResourceType(t)) throw new Invalid(`_type: unknown resource type '${t}'`, ['_type']);
  const types = typeParam.length ? [...new Set(typeParam)] : ctx.repo.registry.resourceTypes;
  if (typeParam.length) for (const t of types) allow(ctx, 'search-type', t);
  else allow(ctx, 'search-system', undefined);
  const request = parseSearchRequest(types[0], req.query, ctx.repo.registry, ctx.limits, req.lenient, types);
  return runSearch(ctx, req, request, 'search-system', undefined);
}

/** `GET Patient/{id}/{type}`: a type search within one patient's compartment. */
export async function searchCompartment(ctx: InteractionContext, req: Interaction, patient: string, type: string): Promise<InteractionResult> {
  allow(ctx, 'search-type', type);
  if (!ctx.compartment.includes(type)) throw new Invalid(`${type} resources are not in the Patient compartment`);
  const patients = await checkVisible(ctx, 'search-type', 'Patient', patient, [patient]);
  const request = parseSearchRequest(type, req.query, ctx.repo.registry, ctx.limits, req.lenient);
  const linked = (await ctx.patientLinks?.members([patient]))?.get(patient) ?? [];
  request.filters.push({ kind: 'compartment', patients: [patient, ...linked], params: { [type]: ctx.compartment.params(type) } });
  return runSearch(ctx, req, request, 'search-type', type, `Patient/${patient}/${type}`, patients);
}

async function runSearch(
  ctx: InteractionContext,
  req: Interaction,
  request: SearchRequest,
  kind: AccessKind,
  type: string | undefined,
  path = type ?? '',
  knownPatients: string[] = [],
): Promise<InteractionResult> {
  localReferences(request, ctx.base);
  await expandGoldenPatients(ctx.patientLinks, request);
  await restrictSearch(ctx, request);
  const result = await ctx.repo.search(request, { canRead: (t) => canRead(ctx, t), maxIncludes: ctx.limits.maxIncludes });
  const patients = new Set(knownPatients);
  if (ctx.audit) for (const r of [...result.resources, ...(result.included ?? [])]) for (const p of ctx.compartment.patientsOf(r)) patients.add(p);
  audit(ctx, { kind, type, outcome: 'success', patients: [...patients], query: new URLSearchParams(req.query).toString() });
  return { status: 200, resource: searchsetBundle(ctx.base, path, request, result) };
}

/** `subject=http://this-hub/fhir/Patient/1` is `subject=Patient/1`: references are stored relative. */
function localReferences(request: SearchRequest, base: string): void {
  const prefix = `${base}/`;
  for (const filter of valueFilters(request.filters)) {
    if (filter.param.type !== 'reference' || filter.modifier === 'identifier' || filter.modifier === 'missing') continue;
    filter.values = filter.values.map((v) => (v.startsWith(prefix) ? v.slice(prefix.length) : v));
  }
}
