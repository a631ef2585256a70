// `Patient/{id}/$everything`: the patient's whole compartment (R4 CompartmentDefinition
// "patient"), plus the resources outside it that those point at (practitioners, organizations,
// locations, medications) as `include` entries, keyset-paged across all types by creation order.
import { allow, audit, canRead, checkVisible, restrictSearch } from './access/enforce.js';
import { Invalid, NotFound } from './errors.js';
import type { Interaction, InteractionContext, InteractionResult } from './interactions.js';
import { searchsetBundle } from './search/bundle.js';
import type { Filter, IncludeSpec, SearchRequest } from './search/model.js';
import { pageSize, sinceInstant } from './search/parse.js';

export async function everything(ctx: InteractionContext, req: Interaction, patient: string): Promise<InteractionResult> {
  allow(ctx, 'operation', 'Patient');
  const query = new Map(req.query);
  const known = await checkVisible(ctx, 'operation', 'Patient', patient, [patient]);
  const current = await ctx.repo.readCurrent('Patient', patient, ctx.compartment.params('Patient'));
  if (!current || current.deleted) throw new NotFound(`Patient/${patient} not found`);

  // AuditEvents are in the R4 Patient compartment, but they are the hub's record of who looked,
  // not the patient's record: they are searched as AuditEvents (by those allowed), not returned here.
  const compartment = Object.fromEntries(Object.entries(ctx.compartment.paramMap()).filter(([type]) => type !== 'AuditEvent'));
  const asked = query.get('_type')?.split(',').filter(Boolean);
  for (const t of asked ?? []) if (!compartment[t]) throw new Invalid(`_type: ${t} is not a Patient-compartment type`, ['_type']);
  const types = (asked ?? Object.keys(compartment)).filter((t) => canRead(ctx, t));
  if (types.length === 0) throw new Invalid('None of the requested types may be read with this access token', ['_type']);

  // A golden record's longitudinal record is its own compartment and those of its linked source Patients.
  const linked = (await ctx.patientLinks?.members([patient]))?.get(patient) ?? [];
  const filters: Filter[] = [{ kind: 'compartment', patients: [patient, ...linked], params: Object.fromEntries(types.map((t) => [t, compartment[t]])) }];
  const since = sinceInstant(query.get('_since'));
  if (since !== undefined) filters.push({ kind: 'value', param: ctx.repo.registry.get('Patient', '_lastUpdated')!, values: [`ge${since}`] });
  const request: SearchRequest = {
    resourceType: types[0],
    types,
    filters,
    sort: [],
    count: pageSize(query.get('_count'), ctx.limits, ctx.limits.maxCount),
    total: 'none',
    include: [],
    ignored: [],
    cursor: query.get('_cursor'),
    query: req.query.filter(([k]) => k !== '_cursor'),
  };
  await restrictSearch(ctx, request);
  const result = await ctx.repo.search(request);
  // What the page points at outside the compartment, once: Practitioner, Organization, Medication ...
  const pageTypes = [...new Set(result.resources.map((r) => r.resourceType))];
  const include: IncludeSpec[] = pageTypes.map((source) => ({
    source,
    params: ctx.repo.registry.forType(source).filter((p) => p.type === 'reference').map((p) => p.code),
    iterate: false,
    reverse: false,
  }));
  const included = await ctx.repo.includes(include, result.resources, {
    restriction: request.restriction,
    canRead: (t) => !ctx.compartment.includes(t) && canRead(ctx, t),
    maxIncludes: ctx.limits.maxIncludes,
  });
  const patients = new Set(known);
  for (const r of result.resources) for (const p of ctx.compartment.patientsOf(r)) patients.add(p);
  audit(ctx, { kind: 'operation', type: 'Patient', id: patient, outcome: 'success', patients: [...patients], query: '$everything' });
  return {
    status: 200,
    resource: searchsetBundle(ctx.base, `Patient/${patient}/$everything`, request, { ...result, included: included.resources, includesTruncated: included.truncated }),
  };
}
