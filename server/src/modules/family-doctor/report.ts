// `GET /fhir/Contract/$report` (FD-04): the district's family-doctor indicators, as of today, for
// administrators and the regulator — aggregate counts only, no patient named:
//   - contract coverage: people with a contract in force / people known to the hub, overall, per
//     community centre (signed only) and per priority group (FD-01/04, from each person's record);
//   - follow-up completion (FD-07..09): of the signed people a yearly requirement applies to, how
//     many have met it over the last 365 days (4 hypertension and 4 diabetes follow-ups, 4 fasting
//     glucose tests, 1 health check at 65+).
// People, not records: Patient records the master patient index links count once. The records are
// read in batches (panel-records.ts); a district of a few hundred thousand people takes minutes,
// which is why this is a report and not a page's live query.
import type { Contract, Patient, ParametersParameter } from '@medplum/fhirtypes';
import { audit } from '../../fhir/access/enforce.js';
import { Forbidden } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { clinicDateOf } from './clinic-dates.js';
import { inForce, isFamilyDoctorContract, patientOf } from './contract-codes.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { dueItems, type DueKind } from './due-items.js';
import type { FamilyDoctorDeps } from './family-doctor-deps.js';
import { loadRecords, type Person } from './panel-records.js';
import { PRIORITY_GROUPS, priorityGroups } from './priority-groups.js';

const KEY_BATCH = 1000;
/** A window past any yearly interval: every requirement that applies to a person shows as an item. */
const WHOLE_YEAR_WINDOW = 366;
const YEARLY_KINDS: readonly DueKind[] = ['hypertension-follow-up', 'diabetes-follow-up', 'fasting-glucose', 'health-check'];

const rate = (part: number, whole: number) => (whole ? Math.round((part / whole) * 10_000) / 10_000 : 0);

export function reportOperation(deps: FamilyDoctorDeps): ModuleOperation {
  return {
    name: '$report',
    level: 'type',
    type: 'Contract',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Contract-report',
    async handle(ctx) {
      const { role } = ctx.access.actor;
      if (role !== 'admin' && role !== 'regulator') throw new Forbidden('FD-04: the district\'s family-doctor indicators are for administrators and the regulator');
      const now = deps.clock.now();
      const today = clinicDateOf(now);

      // People known to the hub, each with all their Patient records.
      const ids = (await searchAll<Patient>(deps.repo, 'Patient', [])).filter((p) => p.active !== false).map((p) => p.id!);
      const personOf = new Map<string, string>();
      for (let i = 0; i < ids.length; i += KEY_BATCH) {
        const batch = ids.slice(i, i + KEY_BATCH);
        const keys = deps.personKeys ? await deps.personKeys(batch) : new Map(batch.map((id) => [id, id]));
        for (const id of batch) personOf.set(id, keys.get(id) ?? id);
      }
      const recordsOf = new Map<string, string[]>();
      for (const [id, key] of personOf) recordsOf.set(key, [...(recordsOf.get(key) ?? []), id]);

      // Contracts in force, one per person.
      const contractOf = new Map<string, Contract>();
      for (const contract of await searchAll<Contract>(deps.repo, 'Contract', [['status', 'executed']])) {
        const patient = patientOf(contract)?.slice('Patient/'.length);
        const key = patient ? personOf.get(patient) : undefined;
        if (key && isFamilyDoctorContract(contract) && inForce(contract, today)) contractOf.set(key, contract);
      }

      const people: Person[] = [...recordsOf].map(([key, records]) => ({ patientId: records.includes(key) ? key : records[0], records, contractStart: contractOf.get(key)?.applies?.start ?? today }));
      const loaded = await loadRecords(deps, people);
      const groups = new Map(PRIORITY_GROUPS.map((g) => [g, { population: 0, signed: 0 }]));
      const followUp = new Map(YEARLY_KINDS.map((k) => [k, { rule: '', eligible: 0, completed: 0 }]));
      const byCentre = new Map<string, number>();
      people.forEach((person, i) => {
        const record = loaded[i];
        const key = personOf.get(person.patientId) ?? person.patientId;
        const contract = contractOf.get(key);
        if (contract) {
          const centre = contract.authority?.[0]?.reference ?? 'unknown';
          byCentre.set(centre, (byCentre.get(centre) ?? 0) + 1);
        }
        if (!record) return;
        for (const g of priorityGroups(record, now)) {
          const counts = groups.get(g)!;
          counts.population++;
          if (contract) counts.signed++;
        }
        if (!contract) return;
        for (const item of dueItems(record, now, { windowDays: WHOLE_YEAR_WINDOW })) {
          const counts = followUp.get(item.kind);
          if (!counts) continue;
          counts.rule = item.rule;
          counts.eligible++;
          if (item.doneLastYear >= item.requiredPerYear) counts.completed++;
        }
      });

      audit(ctx, { kind: 'operation', type: 'Contract', outcome: 'success', patients: [], query: '$report' });
      const population = people.length;
      const signed = contractOf.size;
      const parameter: ParametersParameter[] = [
        { name: 'date', valueDate: today },
        { name: 'population', valueInteger: population },
        { name: 'signed', valueInteger: signed },
        { name: 'coverage', valueDecimal: rate(signed, population) },
        ...[...byCentre].map(([centre, count]) => ({ name: 'centre', part: [{ name: 'organization', valueReference: { reference: centre } }, { name: 'signed', valueInteger: count }] })),
        ...[...groups].map(([code, c]) => ({
          name: 'group',
          part: [{ name: 'code', valueCode: code }, { name: 'population', valueInteger: c.population }, { name: 'signed', valueInteger: c.signed }, { name: 'coverage', valueDecimal: rate(c.signed, c.population) }],
        })),
        ...[...followUp].map(([kind, c]) => ({
          name: 'followUp',
          part: [
            { name: 'kind', valueCode: kind }, ...(c.rule ? [{ name: 'rule', valueCode: c.rule }] : []),
            { name: 'eligible', valueInteger: c.eligible }, { name: 'completed', valueInteger: c.completed }, { name: 'rate', valueDecimal: rate(c.completed, c.eligible) },
          ],
        })),
      ];
      return { status: 200, resource: { resourceType: 'Parameters', parameter } };
    },
  };
}
