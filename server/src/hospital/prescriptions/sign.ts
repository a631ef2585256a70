// `POST /fhir/MedicationRequest/{id}/$sign` — the doctor's signing action, the only way a draft
// becomes a prescription (IH-06). The doctor's client signs, with the private key only it holds, a
// compact JWS whose payload states who signs (sub), which version (target
// MedicationRequest/{id}/_history/{v}) and the SHA-256 of exactly that content (sha256, as
// fhir/content-hash.ts computes it). The hub checks, in this order:
//   the signer is the draft's requester, a treating doctor who may see the patient (IH-05), and
//   eligible to practise online (IH-08/09); the JWS verifies with a key they registered; it binds
//   this draft's current version and content; the medication is coded and not a special-control
//   drug (IH-07); a child has a recorded guardian named and present (IH-07).
// Then, in one transaction: the draft becomes `on-hold` (inactive until a pharmacist approves it,
// IH-05) and tagged as an internet-hospital prescription, a Provenance records the signed version
// with the JWS, and a review Task goes to the pharmacy of the doctor's institution.
import type { Medication, MedicationRequest, ParametersParameter, Task } from '@medplum/fhirtypes';
import { contentHash } from '../../fhir/content-hash.js';
import { Conflict, Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { idOf, isTagged, PRESCRIPTION_TAG, REVIEW_TASK, withTag } from './codes.js';
import { containedMedication, medicationConcepts, specialControlClass } from './drug-classes.js';
import { checkGuardian } from './guardian.js';
import { parseJws, prescriptionClaims, verifyJws, type ParsedJws } from './jws.js';
import { allowAll, booleanParam, ok, params, patientOf, prescriptionOperation, storeAudit, visibleResource } from './operation-support.js';
import { stepProvenance } from './provenance.js';
import { activeKeys, keyById, type SigningKey } from './signing-keys.js';
import type { SqlExecutor } from '../../db/database.js';

/** The longest JWS accepted (an RS256 signature over a small payload is well under 2 kB). */
const MAX_JWS = 16_384;

export function signOperation(deps: HospitalDeps): ModuleOperation {
  return prescriptionOperation(deps, { name: '$sign', level: 'instance', type: 'MedicationRequest', methods: ['POST'] }, async (ctx, req, target, state) => {
    allowAll(ctx, state, [['update', 'MedicationRequest'], ['create', 'Provenance'], ['create', 'Task']]);
    const list = params(req.body, '$sign');
    const jwsText = signatureParam(list);
    const guardianConfirmed = booleanParam(list, 'guardianConfirmed') ?? false;
    const jws = parseJws(jwsText);
    const claims = prescriptionClaims(jws.claims);
    const draft = await visibleResource<MedicationRequest>(ctx, state, 'MedicationRequest', target.id, 'update');
    const id = draft.id!;
    const patient = patientOf(draft);
    const actor = ctx.access.actor;
    if (actor.role !== 'doctor' || !actor.user || draft.requester?.reference !== actor.user) {
      throw new Forbidden('IH-05: only the treating doctor who drafted this prescription (its requester) signs it');
    }
    const signer = actor.user;
    notSigned(draft);
    const doctor = await eligibleClinician(deps, actor, 'doctor');
    const pharmacy = pharmacyOf(draft, doctor.organizations);
    const key = await signingKey(deps.db, signer, jws);
    if (claims.sub !== signer) throw new Forbidden(`IH-08: the signature names ${claims.sub} as signer; you sign in your own name (${signer})`);
    if (claims.exp !== undefined && claims.exp * 1000 <= deps.clock.now().getTime()) throw new Forbidden('The signature has expired (exp); sign again');
    const now = deps.clock.now();
    const when = now.toISOString();

    const done = await ctx.repo.transaction(async (tx) => {
      await tx.lock(`prescription:${id}`);
      const current = (await tx.read('MedicationRequest', id)) as MedicationRequest;
      notSigned(current);
      const signed = `MedicationRequest/${id}/_history/${current.meta?.versionId}`;
      if (claims.target !== signed) {
        if (idOf(claims.target, 'MedicationRequest') === id) throw new Conflict(`The signature is over ${claims.target}, but the draft is now ${signed}; reload it and sign again`);
        throw new Unprocessable(`IH-05: the signature is over ${claims.target}, not this draft; its target must be ${signed}`);
      }
      if (claims.sha256 !== contentHash(current)) throw new Unprocessable(`IH-05: the signed content hash does not match ${signed}; what was signed is not this draft`);
      const medication = await medicationOf(tx, current);
      checkDrug(current, medication, deps.rules.specialControlDrugs);
      const guardian = await checkGuardian(tx, current, patient, deps.rules.guardianUnderAge, { parameter: guardianConfirmed, signed: claims.guardianConfirmed === true }, now);
      const { resource: onHold } = await tx.update<MedicationRequest>(
        withTag({ ...current, status: 'on-hold', statusReason: { text: 'Signed by the prescribing doctor; inactive until a pharmacist approves it (IH-05)' } }),
      );
      const provenance = await tx.create(stepProvenance({ step: 'sign', targets: [signed], who: signer, onBehalfOf: pharmacy, agentType: 'author', when }, { signature: jwsText, guardian }));
      const task = await tx.create<Task>(reviewTask(onHold, patient, signed, signer, pharmacy, when));
      await storeAudit(ctx, tx, { type: 'MedicationRequest', id, versionId: onHold.meta?.versionId, patients: [patient], query: '$sign', detail: `signed (key ${key.kid}); review Task/${task.id} for ${pharmacy}` });
      return { onHold, provenance, task };
    });
    return ok([
      { name: 'medicationRequest', resource: done.onHold },
      { name: 'provenance', resource: done.provenance },
      { name: 'task', resource: done.task },
    ]);
  });
}

/** IH-07: the medication is coded and in no special-control class. */
export function checkDrug(request: MedicationRequest, medication: Medication | undefined, classes: readonly string[]): void {
  const concepts = medicationConcepts(request, medication);
  if (!concepts.some((c) => c.coding?.some((x) => x.system && x.code))) {
    throw new Unprocessable('IH-07: the medication must be coded (system and code) so that special-control drugs can be recognised', ['MedicationRequest.medication']);
  }
  const controlled = specialControlClass(concepts, classes);
  if (controlled) {
    throw new Unprocessable(`IH-07: ${controlled.coding} is a special-control (narcotic or psychotropic) drug, class ${controlled.drugClass}; it cannot be prescribed online`, ['MedicationRequest.medication']);
  }
}

/** The Medication a request refers to (contained or stored); undefined for a coded medication. */
export async function medicationOf(repo: FhirRepository, request: MedicationRequest): Promise<Medication | undefined> {
  if (!request.medicationReference) return undefined;
  const contained = containedMedication(request);
  if (contained) return contained;
  const id = idOf(request.medicationReference.reference, 'Medication');
  const found = id ? ((await repo.read('Medication', id).catch(() => undefined)) as Medication | undefined) : undefined;
  if (!found) throw new Unprocessable(`The prescribed Medication (${request.medicationReference.reference ?? 'no reference'}) is not on record`, ['MedicationRequest.medicationReference']);
  return found;
}

function notSigned(request: MedicationRequest): void {
  if (request.status !== 'draft' || isTagged(request)) throw new Conflict(`MedicationRequest/${request.id} is not an unsigned draft (status ${request.status}); only a draft is signed, once`);
}

/** The institution whose pharmacy reviews and dispenses: dispenseRequest.performer, or the doctor's only institution. */
function pharmacyOf(request: MedicationRequest, organizations: string[]): string {
  const named = request.dispenseRequest?.performer?.reference;
  if (named) {
    if (!organizations.includes(named)) throw new Unprocessable(`IH-09: dispenseRequest.performer (${named}) is not an institution you are registered at (${organizations.join(', ')})`, ['MedicationRequest.dispenseRequest.performer']);
    return named;
  }
  if (organizations.length > 1) throw new Unprocessable(`You are registered at several institutions (${organizations.join(', ')}); name the one whose pharmacy reviews and dispenses in dispenseRequest.performer`, ['MedicationRequest.dispenseRequest.performer']);
  return organizations[0];
}

/** One of the signer's registered keys that the JWS verifies with (by its kid when it names one). */
async function signingKey(sql: SqlExecutor, signer: string, jws: ParsedJws): Promise<SigningKey> {
  const kid = jws.header.kid;
  if (kid !== undefined && typeof kid !== 'string') throw new Invalid('The JWS header "kid" must be text', ['signature']);
  let candidates: SigningKey[];
  if (kid) {
    const key = await keyById(sql, kid);
    if (!key || key.practitioner !== signer) throw new Forbidden(`IH-08: the signing key ${kid} is not registered to ${signer}; sign with your own registered key`);
    if (key.retiredAt) throw new Forbidden(`IH-05: the signing key ${kid} was replaced on ${key.retiredAt}; sign with your current key`);
    candidates = [key];
  } else {
    candidates = await activeKeys(sql, signer);
  }
  if (!candidates.length) throw new Forbidden(`IH-05: ${signer} has no registered signing key; register the public key of your device first (POST Practitioner/{id}/$register-signing-key)`);
  const key = candidates.find((k) => verifyJws(jws, k.publicKey, k.alg));
  if (!key) throw new Forbidden('IH-05: the signature does not verify with your registered signing key');
  return key;
}

function signatureParam(list: ParametersParameter[]): string {
  const value = list.find((p) => p.name === 'signature')?.valueString;
  if (!value) throw new Invalid('Parameter "signature" (valueString: the compact JWS your device made over the draft) is required', ['signature']);
  if (value.length > MAX_JWS) throw new Invalid(`Parameter "signature" is longer than ${MAX_JWS} characters`, ['signature']);
  return value;
}

function reviewTask(request: MedicationRequest, patient: string, signed: string, doctor: string, pharmacy: string, when: string): Task {
  return {
    resourceType: 'Task',
    meta: { tag: [PRESCRIPTION_TAG] },
    status: 'requested',
    intent: 'order',
    priority: request.priority ?? 'routine',
    code: { coding: [REVIEW_TASK] },
    description: 'Pharmacist review of a signed internet-hospital prescription (IH-05)',
    focus: { reference: `MedicationRequest/${request.id}` },
    for: { reference: `Patient/${patient}` },
    ...(request.encounter ? { encounter: request.encounter } : {}),
    authoredOn: when,
    lastModified: when,
    requester: { reference: doctor },
    owner: { reference: pharmacy },
    businessStatus: { text: 'awaiting pharmacist review' },
    input: [{ type: { text: 'signed version' }, valueReference: { reference: signed } }],
  };
}
