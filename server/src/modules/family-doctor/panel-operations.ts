// A family doctor's panel and worklist (FD-01/04, FD-07..09), as type-level operations on
// Contract, for the signed-in doctor (their contracts in force today) or, for an administrator,
// the family doctor named by `familyDoctor` (a PractitionerRole):
//   GET /fhir/Contract/$panel[?group=hypertension]  the signed patients with their priority groups
//   GET /fhir/Contract/$worklist[?window=30]        what is due or overdue, overdue first
// Both answer Parameters (one `member` / `item` part each) and audit the read with every patient.
import type { ParametersParameter, PractitionerRole } from '@medplum/fhirtypes';
import { allow, audit } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { dueItems, DEFAULT_WINDOW_DAYS } from './due-items.js';
import type { FamilyDoctorDeps } from './family-doctor-deps.js';
import { loadPanel, panelContracts, type PanelMember } from './panel-records.js';
import { PRIORITY_GROUPS, priorityGroups, type PriorityGroup } from './priority-groups.js';

const MAX_WINDOW_DAYS = 366;

function nameOf(patient: { name?: { text?: string; family?: string; given?: string[] }[] }): string | undefined {
  const name = patient.name?.[0];
  return name?.text ?? ([name?.family, ...(name?.given ?? [])].filter(Boolean).join('') || undefined);
}

/** The PractitionerRoles whose panel is asked for: the caller's own, or (administrators) `familyDoctor`. */
async function rolesFor(ctx: InteractionContext, query: Map<string, string>): Promise<string[]> {
  const asked = query.get('familyDoctor');
  const { role, user } = ctx.access.actor;
  if (asked !== undefined) {
    if (!/^PractitionerRole\/[A-Za-z0-9\-.]{1,64}$/.test(asked)) throw new Invalid('familyDoctor must be a PractitionerRole reference', ['familyDoctor']);
    if (role !== 'admin') {
      const own = await rolesOf(ctx, user);
      if (!own.includes(asked)) throw new Forbidden('A family doctor sees their own panel');
    }
    return [asked];
  }
  if (role === 'admin') throw new Invalid('An administrator names the family doctor (familyDoctor=PractitionerRole/<id>)', ['familyDoctor']);
  if (role !== 'doctor' && role !== 'nurse') throw new Forbidden('The panel and worklist are a family doctor\'s');
  return rolesOf(ctx, user);
}

async function rolesOf(ctx: InteractionContext, user: string | undefined): Promise<string[]> {
  if (!user?.startsWith('Practitioner/')) return [];
  return (await searchAll<PractitionerRole>(ctx.repo, 'PractitionerRole', [['practitioner', user]])).map((r) => `PractitionerRole/${r.id}`);
}

async function panelOf(deps: FamilyDoctorDeps, ctx: InteractionContext, query: Map<string, string>, name: string): Promise<PanelMember[]> {
  allow(ctx, 'search-type', 'Contract');
  allow(ctx, 'search-type', 'Patient');
  const roles = await rolesFor(ctx, query);
  const members = await loadPanel(deps, await panelContracts(deps, roles, deps.clock.now()));
  audit(ctx, { kind: 'operation', type: 'Contract', outcome: 'success', patients: members.map((m) => m.patientId), query: name });
  return members;
}

const patientPart = (m: PanelMember): ParametersParameter => ({ name: 'patient', valueReference: { reference: `Patient/${m.patientId}`, display: nameOf(m.record.patient) } });

export function panelOperations(deps: FamilyDoctorDeps): ModuleOperation[] {
  const panel: ModuleOperation = {
    name: '$panel',
    level: 'type',
    type: 'Contract',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Contract-panel',
    async handle(ctx, req) {
      const query = new Map(req.query);
      const group = query.get('group');
      if (group !== undefined && !PRIORITY_GROUPS.includes(group as PriorityGroup)) throw new Invalid(`group must be one of ${PRIORITY_GROUPS.join(', ')}`, ['group']);
      const now = deps.clock.now();
      const members = (await panelOf(deps, ctx, query, '$panel')).map((m) => ({ m, groups: priorityGroups(m.record, now) })).filter(({ groups }) => !group || groups.includes(group as PriorityGroup));
      const parameter: ParametersParameter[] = [
        { name: 'count', valueInteger: members.length },
        ...members.map(({ m, groups }) => ({
          name: 'member',
          part: [
            patientPart(m),
            { name: 'contract', valueReference: { reference: `Contract/${m.contract.id}` } },
            { name: 'contractEnd', valueDate: m.contract.applies?.end?.slice(0, 10) },
            ...groups.map((g) => ({ name: 'group', valueCode: g })),
          ],
        })),
      ];
      return { status: 200, resource: { resourceType: 'Parameters', parameter } };
    },
  };

  const worklist: ModuleOperation = {
    name: '$worklist',
    level: 'type',
    type: 'Contract',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Contract-worklist',
    async handle(ctx, req) {
      const query = new Map(req.query);
      const windowText = query.get('window');
      const windowDays = windowText === undefined ? DEFAULT_WINDOW_DAYS : Number(windowText);
      if (!Number.isInteger(windowDays) || windowDays < 0 || windowDays > MAX_WINDOW_DAYS) throw new Invalid(`window is a whole number of days, 0 to ${MAX_WINDOW_DAYS}`, ['window']);
      const now = deps.clock.now();
      const items = (await panelOf(deps, ctx, query, '$worklist'))
        .flatMap((m) => dueItems(m.record, now, { windowDays }).map((item) => ({ m, item })))
        .sort((a, b) => (a.item.status === b.item.status ? a.item.dueDate.localeCompare(b.item.dueDate) : a.item.status === 'overdue' ? -1 : 1));
      const parameter: ParametersParameter[] = [
        { name: 'count', valueInteger: items.length },
        ...items.map(({ m, item }) => ({
          name: 'item',
          part: [
            patientPart(m),
            { name: 'rule', valueCode: item.rule },
            { name: 'kind', valueCode: item.kind },
            { name: 'dueDate', valueDate: item.dueDate },
            { name: 'status', valueCode: item.status },
            { name: 'doneLastYear', valueInteger: item.doneLastYear },
            { name: 'requiredPerYear', valueInteger: item.requiredPerYear },
            ...(item.basis ? [{ name: 'basis', valueReference: { reference: item.basis } }] : []),
          ],
        })),
      ];
      return { status: 200, resource: { resourceType: 'Parameters', parameter } };
    },
  };
  return [panel, worklist];
}
