// The AuditEvents of one answer naming several patients are written as a family (index/family.ts):
// one template serialised and indexed once, each member copied from it with its patient. A copy
// must be exactly what building and indexing that patient's event gives (PI-09: the per-patient
// trail is what a resident and a leak report read), and the trail must queue, or store with a
// write, the same events as eventsFor describes.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent, Patient, Resource } from '@medplum/fhirtypes';
import { buildAuditEvent, type AuditInput } from '../../server/src/audit/balp.js';
import { AuditTrailWriter, PATIENT_SLOT, type QueuedAudit } from '../../server/src/audit/trail.js';
import { createLogger } from '../../server/src/audit/logger.js';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import type { Actor } from '../../server/src/fhir/access/access-control.js';
import { extractIndexRows } from '../../server/src/fhir/index/extract.js';
import { FAMILY_ID, isVerbatimValue, member, planFamily, replaceStrings } from '../../server/src/fhir/index/family.js';
import { SearchParameterRegistry } from '../../server/src/fhir/search/parameters.js';

let registry: SearchParameterRegistry;
beforeAll(() => {
  const defs = loadR4Definitions();
  registry = new SearchParameterRegistry(defs.resourceTypes, defs.searchParameters);
});

const META = { versionId: '1', lastUpdated: '2026-12-01T03:00:00.000Z' };
const stored = <T extends Resource>(resource: T, id: string): T => ({ ...resource, id, meta: META });

// Patient ids of every shape an id may take: case, digits, dots, hyphens, the longest.
const PATIENTS = ['a', 'Pat-1.X', '0123456789', 'UPPER', 'mixed.Case-9', 'z'.repeat(64)];

const base: AuditInput = {
  action: 'search',
  outcome: 'success',
  recorded: '2026-12-01T03:00:00.000Z',
  observer: { display: 'Suhe hub', base: 'https://hub.example.cn/fhir' },
  client: { id: 'ward-app', address: '127.0.0.1' },
  user: { reference: 'Practitioner/dr-1', role: 'doctor' },
  tokenId: 'jti-7',
  resource: { type: 'Observation' },
};

const SHAPES: Record<string, Partial<AuditInput>> = {
  'FHIR search by a clinician': {},
  'QIDO-RS query (DICOM audit event)': { resource: { type: 'ImagingStudy' }, dicomEvent: 'query' },
  'read of one resource': { action: 'read', resource: { type: 'Encounter', id: 'enc-1', versionId: '3' } },
  'a system client, no user': { user: undefined, client: { id: 'sync-job' } },
  'denied, with a reason': { action: 'denied', deniedInteraction: 'search', outcome: 'minor-failure', outcomeDescription: 'outside the panel' },
  'with a purpose of use': { purposeOfUse: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }, reason: 'break the glass' },
};

describe('a family of AuditEvents (PI-09: one per patient)', () => {
  it.each(Object.entries(SHAPES))('%s: each member is the event built and indexed for its patient', (_name, shape) => {
    const template = stored(buildAuditEvent({ ...base, ...shape, patients: [PATIENT_SLOT] }), FAMILY_ID);
    const plan = planFamily(template, PATIENT_SLOT, registry);
    expect(plan).toBeDefined();
    for (const patient of PATIENTS) {
      const own = stored(buildAuditEvent({ ...base, ...shape, patients: [patient] }), 'member-id-1');
      const copy = member(plan!, patient, 'member-id-1');
      expect(JSON.parse(copy.content)).toEqual(own);
      expect(copy.rows).toEqual(extractIndexRows(own, registry));
      // The copy names its patient, in the token rows' patient key too (migration 011).
      expect(copy.rows.reference).toContainEqual(['patient', 'Patient', patient, `Patient/${patient}`]);
      expect(copy.rows.token.every((row) => row[4] === patient)).toBe(true);
      expect(copy.content).not.toContain(PATIENT_SLOT);
      expect(copy.content).not.toContain(FAMILY_ID);
    }
  });

  it('is refused when the slot is not copied verbatim into the index (a name is normalised)', () => {
    const template = stored<Patient>({ resourceType: 'Patient', name: [{ family: PATIENT_SLOT }] }, FAMILY_ID);
    expect(planFamily(template, PATIENT_SLOT, registry)).toBeUndefined();
    // ...and accepted where it is a reference only.
    const linked = stored<Patient>({ resourceType: 'Patient', link: [{ other: { reference: `Patient/${PATIENT_SLOT}` }, type: 'seealso' }] }, FAMILY_ID);
    expect(planFamily(linked, PATIENT_SLOT, registry)).toBeDefined();
  });

  it('copies only values that need no JSON escaping', () => {
    expect(PATIENTS.every(isVerbatimValue)).toBe(true);
    for (const value of ['', 'a"b', 'a\\b', 'two words', 'é', 'z'.repeat(65), `x${FAMILY_ID}`]) expect(isVerbatimValue(value)).toBe(false);
    // What is not copied is made the slow way, every string replaced.
    expect(replaceStrings({ a: [`Patient/${PATIENT_SLOT}`, 1, null], b: { c: PATIENT_SLOT } }, PATIENT_SLOT, 'a"b')).toEqual({ a: ['Patient/a"b', 1, null], b: { c: 'a"b' } });
  });
});

describe('the audit trail queues a family for an answer naming several patients', () => {
  const observer = { display: 'Suhe hub', base: 'https://hub.example.cn/fhir' };
  const actor: Actor = { clientId: 'ward-app', user: 'Practitioner/dr-1', role: 'doctor', tokenId: 'jti-7', address: '127.0.0.1' } as Actor;
  const withoutTime = (e: Resource) => ({ ...(e as AuditEvent), recorded: undefined });

  async function queued(who: Actor, patients: string[]): Promise<QueuedAudit[]> {
    const items: QueuedAudit[] = [];
    const trail = new AuditTrailWriter(async (batch) => void items.push(...batch), createLogger('error', true), { observer, flushMs: 60_000 });
    trail.record(who, { kind: 'search-type', type: 'Observation', outcome: 'success', patients, query: `subject=${patients.join(',')}` });
    await trail.close();
    return items;
  }

  /** The events the queued items stand for, as a store expands them. */
  const expand = (items: QueuedAudit[]): Resource[] => items.flatMap((item) => ('template' in item ? item.patients.map((p) => replaceStrings(item.template, PATIENT_SLOT, p)) : [item]));

  it('holds the events eventsFor describes: one per patient, one with the query', async () => {
    const patients = ['p1', 'p2', 'P-3.x'];
    const items = await queued(actor, patients);
    expect(items.filter((item) => 'template' in item)).toEqual([expect.objectContaining({ patients })]);
    const trail = new AuditTrailWriter(async () => undefined, createLogger('error', true), { observer, flushMs: 60_000 });
    const described = trail.eventsFor(actor, { kind: 'search-type', type: 'Observation', outcome: 'success', patients, query: `subject=${patients.join(',')}` });
    await trail.close();
    const key = (e: Resource) => JSON.stringify(withoutTime(e));
    expect(expand(items).map(key).sort()).toEqual(described.map(key).sort());
  });

  it("stores a write's events in the write's transaction the same way: a family, created as the events eventsFor describes", async () => {
    const trail = new AuditTrailWriter(async () => undefined, createLogger('error', true), { observer, flushMs: 60_000 });
    const created: Resource[] = [];
    const families: { template: Resource; slot: string; values: readonly string[] }[] = [];
    const tx = {
      create: async (resource: Resource) => void created.push(resource),
      createFamily: async (template: Resource, slot: string, values: readonly string[]) => void families.push({ template, slot, values }),
    };
    const record = { kind: 'operation' as const, type: 'Patient', outcome: 'success' as const, patients: ['p1', 'p2', 'p3'], query: '$merge action=7' };
    await trail.writeIn(tx, actor, record);
    expect(families.map((f) => [f.slot, f.values])).toEqual([[PATIENT_SLOT, ['p1', 'p2', 'p3']]]);
    const stored = [...created, ...families.flatMap((f) => f.values.map((v) => replaceStrings(f.template, f.slot, v)))];
    const key = (e: Resource) => JSON.stringify(withoutTime(e));
    expect(stored.map(key).sort()).toEqual(trail.eventsFor(actor, record).map(key).sort());
    // One patient: one event, no family.
    created.length = 0;
    families.length = 0;
    await trail.writeIn(tx, actor, { ...record, patients: ['p1'] });
    expect([created.length, families.length]).toEqual([1, 0]);
    await trail.close();
  });

  it('gives a patient seen with a purpose of its own an event of its own, outside the family', async () => {
    const teleconsult = { ...actor, purposeByPatient: { p2: { code: 'TREAT', reason: 'teleconsultation Task/9' } } } as Actor;
    const items = await queued(teleconsult, ['p1', 'p2', 'p3']);
    const family = items.find((item) => 'template' in item) as { patients: readonly string[] };
    expect(family.patients).toEqual(['p1', 'p3']);
    const own = expand(items).filter((e) => JSON.stringify(e).includes('teleconsultation Task/9')) as AuditEvent[];
    expect(own.map((e) => e.entity?.map((x) => x.what?.reference))).toEqual([['Patient/p2']]);
  });
});
