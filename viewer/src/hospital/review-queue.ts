// Pharmacist: the review queue of the institutions they are registered at (PractitionerRole):
// the open review Tasks (Task?owner=Organization/…&code=…|prescription-review&status=requested),
// each with patient, drug, dose, doctor, signing time and the hub's signature check ($trace).
// Approve, or reject with a mandatory reason (Task/{id}/$review); refusals show as the hub words them.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, personName, showText, when } from './format.js';
import { isRefusal, operation, read, search, type FhirResource } from './hospital-api.js';
import { doseOf, drugOf, REVIEW_TASK, signatureOf, type MedicationRequest, type TraceBundle } from './prescription-format.js';

interface Task extends FhirResource {
  focus?: { reference?: string };
  for?: { reference?: string };
  requester?: { reference?: string };
  owner?: { reference?: string };
  authoredOn?: string;
}

const plain = (reference: string | undefined) => reference?.replace(/\/_history\/.*$/, '');

export function reviewQueuePage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const me = app.session.fhirUser() ?? '';
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'review-status' }, i18n: 'hospitalLoading' });
  const rows = el('tbody');
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'review-queue' } }, [
    el('h1', { i18n: 'hospitalReviewQueue' }),
    status,
    el('table', { className: 'prescriptions' }, [
      el('thead', {}, [el('tr', {}, [
        el('th', { i18n: 'hospitalPatient' }), el('th', { i18n: 'hospitalDrug' }), el('th', { i18n: 'hospitalDose' }), el('th', { i18n: 'hospitalDoctor' }),
        el('th', { i18n: 'hospitalSignedAt' }), el('th', { i18n: 'hospitalSignature' }), el('th'),
      ])]),
      rows,
    ]),
  ]);
  container.replaceChildren(section);
  const name = async (reference: string | undefined) => (reference ? personName(await read(app, reference).catch(() => undefined)) ?? reference : '');

  const load = async () => {
    delete section.dataset.loaded;
    try {
      const roles = (await search<FhirResource & { organization?: { reference?: string } }>(app, `PractitionerRole?practitioner=${encodeURIComponent(me)}&active=true&_count=100`)).matches;
      const institutions = [...new Set(roles.map((r) => r.organization?.reference).filter((r): r is string => !!r))];
      const tasks: Task[] = [];
      for (const owner of institutions) {
        const query = new URLSearchParams({ owner, code: REVIEW_TASK, status: 'requested', _sort: '_lastUpdated', _count: '100' });
        tasks.push(...(await search<Task>(app, `Task?${query}`)).matches);
      }
      const built: HTMLElement[] = [];
      for (const task of tasks) built.push(await row(task));
      if (!alive) return;
      rows.replaceChildren(...built);
      if (!institutions.length) setText(status, 'hospitalNoInstitution');
      else if (tasks.length) showText(status, '');
      else setText(status, 'hospitalNoReviews');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };

  const row = async (task: Task): Promise<HTMLElement> => {
    const focus = plain(task.focus?.reference) ?? '';
    const request = await read<MedicationRequest>(app, focus).catch(() => undefined);
    const trace = await app.client.json<TraceBundle>(`${app.hub.fhirBase}/${focus}/$trace`, { accept: 'application/fhir+json' }).catch((): TraceBundle => ({})); // no verdict: shown as "cannot be checked"
    const signature = signatureOf(trace);
    const verdict = el('td', {
      i18n: signature.state === 'valid' ? 'hospitalSignatureValid' : signature.state === 'invalid' ? 'hospitalSignatureInvalid' : 'hospitalSignatureUnknown',
      attrs: { 'data-testid': 'signature-state', 'data-state': signature.state, title: signature.detail },
    });
    const error = el('span', { className: 'error', attrs: { role: 'alert', 'data-testid': 'review-error' } });
    const reason = el('input', { attrs: { type: 'text', maxlength: 500, 'data-testid': 'reject-reason' }, i18nAttrs: { 'aria-label': 'hospitalRejectReason', placeholder: 'hospitalRejectReason' } });
    const approve = el('button', { className: 'primary', i18n: 'hospitalApprove', attrs: { 'data-testid': 'approve' } });
    const reject = el('button', { i18n: 'hospitalReject', attrs: { 'data-testid': 'reject' } });
    const tr = el('tr', { attrs: { 'data-testid': 'review-row', 'data-task': task.id, 'data-prescription': focus, 'data-patient': plain(task.for?.reference) } }, [
      el('td', { text: await name(plain(task.for?.reference ?? request?.subject?.reference)) }),
      el('td', { text: request ? drugOf(request) : focus }),
      el('td', { text: request ? doseOf(request) : '' }),
      el('td', { text: await name(plain(task.requester?.reference ?? request?.requester?.reference)) }),
      el('td', { text: when(signature.signedAt) }),
      verdict,
      el('td', { className: 'actions' }, [reason, approve, reject, error]),
    ]);
    const decide = (decision: 'approve' | 'reject') => {
      showText(error, '');
      const why = reason.value.trim();
      if (decision === 'reject' && !why) return setText(error, 'hospitalRejectReasonMissing');
      approve.disabled = reject.disabled = true;
      operation(app, `Task/${encodeURIComponent(task.id!)}/$review`, [{ name: 'decision', valueCode: decision }, ...(why && decision === 'reject' ? [{ name: 'reason', valueString: why }] : [])])
        .then(() => {
          tr.dataset.decided = decision;
          setText(error, decision === 'approve' ? 'hospitalApproved' : 'hospitalRejected');
          error.className = 'done';
          reason.disabled = true;
        })
        .catch((err: unknown) => {
          showText(error, failureText(err, isRefusal(err)));
          approve.disabled = reject.disabled = false;
        });
    };
    approve.addEventListener('click', () => decide('approve'));
    reject.addEventListener('click', () => decide('reject'));
    return tr;
  };
  void load();
}
