// `GET /fhir/MedicationRequest/{id}/$trace` — the whole chain of a prescription (IH-13): every
// version of the MedicationRequest, its review Task(s), MedicationDispense(s) and delivery
// Task(s) with every version of each, and the Provenance of every step, in the order they
// happened, as a `collection` Bundle; last, an OperationOutcome with the signature re-checked
// (signature-check.ts). Readable by whoever may read the prescription (the patient or their
// guardian, the treating doctor, the institution's pharmacists while it is open), by the people who
// took part in it (its doctor, the pharmacists who reviewed, dispensed or delivered it), and by the
// regulator: IH-13 opens a read-only data interface to the regulator, whose role sees no patient
// compartment otherwise — here it reads internet-hospital prescriptions' chains (read-only: every
// other prescription operation needs write access, which the regulator never has). Every trace is
// audited with the patient.
import type { Bundle, BundleEntry, MedicationRequest, OperationOutcome, OperationOutcomeIssue, Provenance, Resource } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { audit, canRead, checkVisible } from '../../fhir/access/enforce.js';
import { Gone, NotFound } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import type { HospitalDeps } from '../index.js';
import { isTagged, REVIEW_TASK, STEP_CODES } from './codes.js';
import { deliveriesOf, dispensesOf } from './dispense.js';
import { allowAll, prescriptionOperation } from './operation-support.js';
import { checkSignature } from './signature-check.js';

/** Versions of one resource kept in a trace (a prescription's chain has a handful). */
const MAX_VERSIONS = 100;
const LIMITS = { defaultCount: 100, maxCount: 100, defaultTotal: 'none' as const };

export function traceOperation(deps: HospitalDeps): ModuleOperation {
  return prescriptionOperation(deps, { name: '$trace', level: 'instance', type: 'MedicationRequest', methods: ['GET'], bundleSafe: true }, async (ctx, _req, target, state) => {
    allowAll(ctx, state, [['operation', 'MedicationRequest']]);
    const id = target.id!;
    const request = (await ctx.repo.read('MedicationRequest', id).catch((err) => {
      if (err instanceof NotFound || err instanceof Gone) throw new NotFound(`MedicationRequest/${id} not found`);
      throw err;
    })) as MedicationRequest;
    const patients = ctx.compartment.patientsOf(request);
    state.patients = patients;
    const regulator = ctx.access.actor.role === 'regulator';
    if (regulator) {
      if (!isTagged(request)) {
        audit(ctx, { kind: 'operation', type: 'MedicationRequest', id, outcome: 'denied', detail: 'the regulator traces internet-hospital prescriptions only', patients, query: '$trace' });
        throw new NotFound(`MedicationRequest/${id} is not an internet-hospital prescription`);
      }
    }
    const repo = ctx.repo;
    const reviews = canRead(ctx, 'Task') ? await reviewsOf(repo, id) : [];
    const dispenses = canRead(ctx, 'MedicationDispense') ? await dispensesOf(repo, id) : [];
    const deliveries = canRead(ctx, 'Task') ? await deliveriesOf(repo, id) : [];
    const chain = [request, ...reviews, ...dispenses, ...deliveries];
    const provenances = canRead(ctx, 'Provenance') ? await provenancesOf(repo, chain) : [];
    // Whoever may see the patient, and the people who took part in the chain (the prescribing
    // doctor, the reviewing and dispensing pharmacists) after their care relationship has ended.
    const user = ctx.access.actor.user;
    const tookPart = !!user && (request.requester?.reference === user || provenances.some((p) => p.agent.some((a) => a.who?.reference === user)));
    if (!regulator && !(tookPart && isTagged(request)) && !canSee(await ctx.access.visiblePatients(), patients)) {
      await checkVisible(ctx, 'operation', 'MedicationRequest', id, patients); // audits the denial, answers 404
    }
    const versions: Resource[] = [];
    for (const resource of chain) versions.push(...(await versionsOf(repo, resource)));
    const issues: OperationOutcomeIssue[] = [];
    const sql = await repo.sql();
    const signings = provenances.filter((p) => p.activity?.coding?.some((c) => c.system === STEP_CODES && c.code === 'sign'));
    for (const signing of signings) issues.push(...(await checkSignature(repo, sql, signing, request)));
    if (!signings.length) issues.push({ severity: request.status === 'draft' ? 'information' : 'warning', code: 'informational', diagnostics: `MedicationRequest/${id} has not been signed through the internet hospital (status ${request.status})` });

    const entries: BundleEntry[] = [...versions, ...provenances]
      .map((resource, order) => ({ resource, order, at: resource.meta?.lastUpdated ?? '' }))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order))
      .map(({ resource }) => ({ fullUrl: `${ctx.base}/${resource.resourceType}/${resource.id}`, resource }));
    const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: issues };
    const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', timestamp: deps.clock.now().toISOString(), entry: [...entries, { resource: outcome }] };
    audit(ctx, { kind: 'operation', type: 'MedicationRequest', id, outcome: 'success', patients, query: '$trace', ...(regulator ? { detail: 'IH-13: read by the regulator' } : {}) });
    return { status: 200, resource: bundle };
  });
}

async function reviewsOf(repo: FhirRepository, requestId: string): Promise<Resource[]> {
  const request = parseSearchRequest('Task', [['focus', `MedicationRequest/${requestId}`], ['code', `${REVIEW_TASK.system}|${REVIEW_TASK.code}`], ['_sort', '_lastUpdated']], repo.registry, LIMITS);
  return (await repo.search(request)).resources.filter(isTagged);
}

/** Every version of the resource, oldest first. */
async function versionsOf(repo: FhirRepository, resource: Resource): Promise<Resource[]> {
  const history = await repo.history({ type: resource.resourceType, id: resource.id, count: MAX_VERSIONS });
  return history.entries.filter((e) => !e.deleted).map((e) => e.resource).reverse();
}

/** The hub's Provenances of any step of the chain. */
async function provenancesOf(repo: FhirRepository, chain: Resource[]): Promise<Provenance[]> {
  const targets = chain.map((r) => `${r.resourceType}/${r.id}`).join(',');
  const request = parseSearchRequest('Provenance', [['target', targets], ['_sort', '_lastUpdated']], repo.registry, LIMITS);
  return ((await repo.search(request)).resources as Provenance[]).filter(isTagged);
}
