// Token index rows keyed by the resource's patient (migration 011, index/extract.ts
// keyTokensByPatient): a code within one patient's record reads that patient's rows only. These
// tests prove the searches that use the key find exactly what the unkeyed search finds — for a
// resource of two patients, a subject that is a Group, negation and every way to name the patient —
// and that the migration's backfill rebuilds, from rows written without the key, exactly the rows
// the hub writes today.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { PATIENT_KEYED_TOKEN_BACKFILL } from '../../server/src/db/migrations/011-patient-keyed-tokens.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('patient-keyed-tokens');
const LOINC = 'http://loinc.org';

describe.each(backends)('patient-keyed token rows on %s', (backend) => {
  const t = useTestHub(backend);
  const ids: Record<string, string> = {};

  const create = async (resource: Resource): Promise<string> => {
    const res = await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
    const body = (await res.json()) as Resource;
    expect({ status: res.status, body: res.status === 201 ? undefined : body }).toEqual({ status: 201 });
    return body.id!;
  };
  const found = async (path: string): Promise<string[]> => {
    const res = await t.fetch(`${t.base}/${path}`);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return (((await res.json()) as Bundle).entry ?? []).map((e) => e.resource!.id!).sort();
  };
  const observation = (code: string, subject: string) => ({
    resourceType: 'Observation' as const,
    status: 'final' as const,
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: subject },
  });

  beforeAll(async () => {
    ids.p1 = await create({ resourceType: 'Patient', name: [{ family: '甲' }] });
    ids.p2 = await create({ resourceType: 'Patient', name: [{ family: '乙' }] });
    ids.group = await create({ resourceType: 'Group', type: 'person', actual: true });
    ids.glucoseP1 = await create(observation('2345-7', `Patient/${ids.p1}`));
    ids.hbP1 = await create(observation('718-7', `Patient/${ids.p1}`));
    ids.glucoseP2 = await create(observation('2345-7', `Patient/${ids.p2}`));
    ids.glucoseGroup = await create(observation('2345-7', `Group/${ids.group}`));
    ids.visit = await create({
      resourceType: 'Appointment',
      status: 'booked',
      start: '2026-12-01T09:00:00+08:00',
      end: '2026-12-01T09:15:00+08:00',
      participant: [
        { actor: { reference: `Patient/${ids.p1}` }, status: 'accepted' },
        { actor: { reference: `Patient/${ids.p2}` }, status: 'accepted' },
      ],
    });
  });

  it('finds a code within one patient, however the patient is named', async () => {
    for (const pin of [`subject=Patient/${ids.p1}`, `patient=Patient/${ids.p1}`, `patient=${ids.p1}`, `subject:Patient=${ids.p1}`]) {
      expect({ pin, ids: await found(`Observation?code=${LOINC}|2345-7&${pin}`) }).toEqual({ pin, ids: [ids.glucoseP1] });
    }
    expect(await found(`Observation?code=2345-7,718-7&subject=Patient/${ids.p1}`)).toEqual([ids.glucoseP1, ids.hbP1].sort());
    expect(await found(`Observation?code:not=2345-7&subject=Patient/${ids.p1}`)).toEqual([ids.hbP1]);
    expect(await found(`Observation?code=718-7&subject=Patient/${ids.p2}`)).toEqual([]);
    // A Group subject is no patient: its rows are unkeyed, and found by subject as before.
    expect(await found(`Observation?code=2345-7&subject=Group/${ids.group}`)).toEqual([ids.glucoseGroup]);
    // The code alone still finds every patient's.
    expect(await found(`Observation?code=2345-7`)).toEqual([ids.glucoseP1, ids.glucoseP2, ids.glucoseGroup].sort());
  });

  it('finds a resource of two patients within either', async () => {
    expect(await found(`Appointment?status=booked&patient=Patient/${ids.p1}`)).toEqual([ids.visit]);
    expect(await found(`Appointment?status=booked&patient=Patient/${ids.p2}`)).toEqual([ids.visit]);
    expect(await found(`Appointment?status:not=booked&patient=Patient/${ids.p2}`)).toEqual([]);
    expect(await found(`Appointment?status=booked`)).toEqual([ids.visit]);
  });

  it('the migration backfill rebuilds from unkeyed rows exactly the rows the hub writes', async () => {
    const snapshot = () =>
      t.hub.db.query<{ row: string }>(
        `select concat_ws('|', res_type, res_id, param, system, code, display, coalesce(patient, '-')) as row from idx_token
          where res_type in ('Observation', 'Appointment', 'Patient', 'Group') order by 1`,
      );
    const written = (await snapshot()).map((r) => r.row);
    expect(written.filter((row) => row.startsWith(`Appointment|${ids.visit}|status|`))).toHaveLength(2);

    await t.hub.db.transaction(async (tx) => {
      // The shape before migration 011: each distinct token row once, without a patient.
      await tx.query(`create temporary table unkeyed on commit drop as select distinct res_type, res_id, param, system, code, display from idx_token`);
      await tx.query('delete from idx_token');
      await tx.query('insert into idx_token (res_type, res_id, param, system, code, display) select * from unkeyed');
      // Only this suite's types: the audit trail's flush may commit AuditEvent rows meanwhile.
      const keyed = `select count(*)::int as n from idx_token where patient is not null and res_type in ('Observation', 'Appointment', 'Patient', 'Group')`;
      expect((await tx.query<{ n: number }>(keyed))[0].n).toBe(0);
      for (const statement of PATIENT_KEYED_TOKEN_BACKFILL) await tx.query(statement);
    });
    expect((await snapshot()).map((r) => r.row)).toEqual(written);
  });
});
