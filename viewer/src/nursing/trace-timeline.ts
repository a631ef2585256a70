// The steps of one order as a timeline, from GET ServiceRequest/{id}/$trace (NU-07: every version
// of the chain, oldest first): ordered, assessed or declined, dispatched (the nurse's name and the
// scheduled start), checked in, alarms, the care record (one Procedure per item), checked out,
// rated. Versions that change nothing a reader sees (e.g. the alarm mark on the visit) are skipped.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el } from '../ui/dom.js';
import { personName, when } from '../hospital/format.js';
import { read, type FhirResource } from '../hospital/hospital-api.js';
import { codeOf, eventTime, itemName, itemsOf, taskKind, type Order, type Task } from './nursing-codes.js';

type Versioned = FhirResource & { status?: string; meta?: { lastUpdated?: string } };
export interface Step {
  kind: string;
  key: MessageKey;
  time?: string;
  values?: Record<string, string | number>;
  detail?: string;
}

/** The readable steps of a $trace Bundle's resources (oldest first). */
export async function stepsOf(app: AppContext, resources: Versioned[]): Promise<Step[]> {
  const names = new Map<string, Promise<string>>();
  const nameOf = (reference: string | undefined): Promise<string> => {
    if (!reference) return Promise.resolve('');
    if (!names.has(reference)) names.set(reference, read(app, reference).then((r) => personName(r) ?? reference, () => reference));
    return names.get(reference)!;
  };
  const steps: Step[] = [];
  const lastKind = new Map<string, string>();
  for (const r of resources) {
    const step = await stepOf(r, nameOf);
    if (!step) continue;
    const id = `${r.resourceType}/${r.id}`;
    if (lastKind.get(id) === step.kind) continue;
    lastKind.set(id, step.kind);
    steps.push(step);
  }
  return steps;
}

async function stepOf(r: Versioned, nameOf: (reference: string | undefined) => Promise<string>): Promise<Step | undefined> {
  const time = r.meta?.lastUpdated;
  if (r.resourceType === 'ServiceRequest' && r.status === 'on-hold') return { kind: 'ordered', key: 'nursingStep_ordered', time, detail: itemsOf(r as Order).map(itemName).join('、') };
  if (r.resourceType === 'Task') {
    const task = r as Task;
    const kind = taskKind(task);
    if (kind === 'assessment' && task.status === 'completed') return { kind: 'assessed', key: 'nursingStep_assessed', time };
    if (kind === 'assessment' && task.status === 'rejected') return { kind: 'declined', key: 'nursingStep_declined', time, detail: task.statusReason?.text ?? '' };
    if (kind === 'visit' && task.status === 'accepted') return { kind: 'dispatched', key: 'nursingStep_dispatched', time, values: { nurse: await nameOf(task.owner?.reference), start: when(task.executionPeriod?.start) } };
    if (kind === 'visit' && task.status === 'in-progress') return { kind: 'checked-in', key: 'nursingStep_checkedIn', time: eventTime(task, 'check-in') ?? time, values: { nurse: await nameOf(task.owner?.reference) } };
    if (kind === 'visit' && task.status === 'completed') return { kind: 'checked-out', key: 'nursingStep_checkedOut', time: eventTime(task, 'check-out') ?? time, detail: task.output?.find((o) => codeOf(o.type) === 'care-record')?.valueString };
    if (kind === 'complaint') return { kind: 'complaint', key: 'nursingStep_complaint', time, detail: (task as { description?: string }).description };
    return undefined;
  }
  if (r.resourceType === 'Flag') return r.status === 'active' ? { kind: 'alarm', key: 'nursingStep_alarm', time, detail: (r as { code?: { text?: string } }).code?.text } : { kind: 'alarm-resolved', key: 'nursingStep_alarmResolved', time };
  if (r.resourceType === 'Procedure') {
    const p = r as { code?: { coding?: { code?: string }[] }; note?: { text?: string }[] };
    return { kind: 'care', key: 'nursingStep_care', time, values: { item: itemName(p.code?.coding?.[0]?.code) }, detail: p.note?.[0]?.text };
  }
  if (r.resourceType === 'Observation') {
    const o = r as { valueInteger?: number; note?: { text?: string }[] };
    return { kind: 'rated', key: 'nursingStep_rated', time, values: { score: o.valueInteger ?? 0 }, detail: o.note?.[0]?.text };
  }
  return undefined;
}

export function timeline(steps: Step[]): HTMLElement {
  return el('ol', { className: 'timeline', attrs: { 'data-testid': 'trace-timeline' } }, steps.map((s) =>
    el('li', { attrs: { 'data-testid': 'trace-step', 'data-step': s.kind } }, [
      el('span', { className: 'when', text: when(s.time) }),
      el('span', { className: 'what', i18n: s.key, i18nValues: s.values }),
      s.detail ? el('span', { className: 'detail', text: s.detail }) : null,
    ])));
}
