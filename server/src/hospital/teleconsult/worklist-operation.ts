// `GET /fhir/Task/$consult-worklist`: an eligible doctor's open teleconsultations — invitations to
// their institutions awaiting an answer, consults they have accepted, and those they have sent —
// each Task with its ServiceRequest (the invitation's content, which the patient's consent
// discloses to the invited institution; the rest of the record opens only on acceptance).
// TM-06 "promptly": a Task still awaiting its answer after its consult-response-due instant
// (invitation time + rules.consultResponseHours) is shown with businessStatus response-overdue.
// The flag is computed here, at reading time, never stored: it is true of the moment it is read.
import type { Bundle, BundleEntry, ServiceRequest, Task } from '@medplum/fhirtypes';
import { allow, audit } from '../../fhir/access/enforce.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { AWAITING_RESPONSE, CONSULT_CODE, OVERDUE_STATUS, RESPONSE_DUE_EXTENSION, UNDER_WAY } from './codes.js';
import { activeRoles, patientOf } from './consult-store.js';

const LIMITS = { defaultCount: 200, maxCount: 200, defaultTotal: 'none' as const };

/** Whether the Task awaits its answer past its due instant. */
export function overdue(task: Task, now = new Date()): boolean {
  const due = task.extension?.find((e) => e.url === RESPONSE_DUE_EXTENSION)?.valueDateTime;
  return AWAITING_RESPONSE.includes(task.status) && !!due && Date.parse(due) < now.getTime();
}

/** The Task as shown: with businessStatus response-overdue when it is. */
export function shown(task: Task, now = new Date()): Task {
  return overdue(task, now) ? { ...task, businessStatus: { coding: [OVERDUE_STATUS], text: OVERDUE_STATUS.display } } : task;
}

export function worklistOperation(deps: HospitalDeps): ModuleOperation {
  return {
    name: '$consult-worklist',
    level: 'type',
    type: 'Task',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Task-consult-worklist',
    async handle(ctx) {
      allow(ctx, 'search-type', 'Task');
      const doctor = await eligibleClinician(deps, ctx.access.actor, 'doctor');
      const roles = (await activeRoles(ctx.repo, doctor.reference)).map((r) => `PractitionerRole/${r.id}`);
      const search = (param: string, refs: string[]) => openConsults(ctx.repo, param, refs);
      const found = [...(await search('owner', [doctor.reference, ...roles, ...doctor.organizations])), ...(await search('requester', [doctor.reference, ...roles]))];
      const tasks = [...new Map(found.map((t) => [t.id, t])).values()].sort((a, b) => (a.authoredOn ?? '').localeCompare(b.authoredOn ?? ''));
      const now = new Date();
      const entries: BundleEntry[] = [];
      for (const task of tasks) {
        entries.push({ fullUrl: `${ctx.base}/Task/${task.id}`, resource: shown(task, now), search: { mode: 'match' } });
        const requestId = task.focus?.reference?.match(/^ServiceRequest\/(.+)$/)?.[1];
        const request = requestId ? ((await ctx.repo.read('ServiceRequest', requestId).catch(() => undefined)) as ServiceRequest | undefined) : undefined;
        if (request) entries.push({ fullUrl: `${ctx.base}/ServiceRequest/${request.id}`, resource: request, search: { mode: 'include' } });
      }
      audit(ctx, { kind: 'search-type', type: 'Task', outcome: 'success', patients: [...new Set(tasks.map(patientOf).filter(Boolean))], query: '$consult-worklist' });
      const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: tasks.length, entry: entries };
      return { status: 200, resource: bundle };
    },
  };
}

async function openConsults(repo: FhirRepository, param: string, refs: string[]): Promise<Task[]> {
  if (!refs.length) return [];
  const query: [string, string][] = [
    ['code', `${CONSULT_CODE.system}|${CONSULT_CODE.code}`],
    ['status', [...AWAITING_RESPONSE, ...UNDER_WAY].join(',')],
    [param, refs.join(',')],
  ];
  return (await repo.search(parseSearchRequest('Task', query, repo.registry, LIMITS))).resources as Task[];
}
