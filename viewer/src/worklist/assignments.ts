// "Assigned to me": the signed-in reader's open reading assignments (FHIR Tasks, from the hub's
// /imaging/assignments), shown above the worklist, most urgent first. Each row names the study
// from QIDO-RS, so it reads like a worklist row, with the priority and the requester's note.
import type { AppContext } from '../app-context.js';
import { SessionExpired } from '../auth/session.js';
import type { DicomJson } from '../dicomweb/dicom-json.js';
import { language, onLanguageChange } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { clear, el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { studyRow } from './study-row.js';

interface Assignment {
  studyUid: string;
  task: { id: string; priority?: string; authoredOn?: string; note?: { text?: string }[] };
}

const PRIORITY: Record<string, MessageKey> = { routine: 'priorityRoutine', urgent: 'priorityUrgent', asap: 'priorityAsap', stat: 'priorityStat' };

export function assignmentsSection(app: AppContext, scope: Scope): HTMLElement {
  const list = el('tbody');
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'assignments-status' } });
  const section = el('section', { className: 'assignments', attrs: { 'data-testid': 'assignments', hidden: true } }, [
    el('h2', { i18n: 'assignedToMe' }),
    el('div', { className: 'table-wrap' }, [el('table', { className: 'studies' }, [list])]),
    status,
  ]);
  let loaded: { assignment: Assignment; study?: DicomJson }[] = [];

  const render = () => {
    clear(list);
    for (const { assignment, study } of loaded) {
      const row = study ? studyRow(study, language() === 'zh-CN') : undefined;
      const priority = assignment.task.priority ?? 'routine';
      list.append(
        el('tr', { attrs: { 'data-testid': 'assignment-row', 'data-study-uid': assignment.studyUid, 'data-priority': priority } }, [
          el('td', {}, [el('span', { className: `priority priority-${priority}`, i18n: PRIORITY[priority] ?? 'priorityRoutine' })]),
          el('td', {}, [el('a', { text: row?.patientName || assignment.studyUid, attrs: { href: `#/study/${encodeURIComponent(assignment.studyUid)}`, 'data-testid': 'open-assignment' } })]),
          el('td', { text: row?.date ?? '' }),
          el('td', { text: row?.modalities ?? '' }),
          el('td', { text: row?.description ?? '' }),
          el('td', { className: 'note', text: assignment.task.note?.map((n) => n.text).join(' ') ?? '' }),
        ]),
      );
    }
    section.hidden = loaded.length === 0;
  };

  scope.add(onLanguageChange(render));
  void (async () => {
    try {
      const { assignments } = await app.client.json<{ assignments: Assignment[] }>(`${app.hub.imaging}/assignments`);
      loaded = await Promise.all(
        assignments.map(async (assignment) => {
          const found = await app.client
            .json<DicomJson[]>(`${app.hub.dicomweb}/studies?StudyInstanceUID=${encodeURIComponent(assignment.studyUid)}&includefield=StudyDescription`, { accept: 'application/dicom+json' })
            .catch(() => []);
          return { assignment, study: found[0] };
        }),
      );
      render();
    } catch (err) {
      if (err instanceof SessionExpired) return app.signInAgain();
      section.hidden = false;
      setText(status, 'loadFailed', { reason: (err as Error).message });
    }
  })();
  return section;
}
