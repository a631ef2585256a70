// One appointment's online visit, for both sides: once the doctor has started it
// (Encounter?appointment=…&status=in-progress) the conversation; the doctor also gets the form
// that ends it and the prescription form. Before the start, the patient is told to come back later.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { endVisitForm } from './end-visit-form.js';
import { failureText, showText } from './format.js';
import { isRefusal, search, type FhirResource } from './hospital-api.js';
import type { HospitalRole } from './role.js';
import { prescribeForm } from './prescribing/prescribe-form.js';
import { visitChat } from './visit-chat.js';

export function visitPage(app: AppContext, container: HTMLElement, scope: Scope, appointmentId: string, role: HospitalRole): void {
  let alive = true;
  scope.add(() => (alive = false));
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'visit-status' }, i18n: 'hospitalLoading' });
  const body = el('div', { className: 'visit-body' });
  const back = el('a', { className: 'button', i18n: 'hospitalBack', attrs: { href: role === 'clinician' ? '#/hospital/consultations' : '#/hospital/appointments' } });
  const refresh = el('button', { i18n: 'hospitalSearch', attrs: { 'data-testid': 'visit-refresh', hidden: true } });
  container.replaceChildren(el('section', { className: 'hospital-page visit', attrs: { 'data-testid': 'visit', 'data-appointment': appointmentId } }, [back, status, refresh, body]));

  const load = async () => {
    refresh.hidden = true;
    try {
      const { matches } = await search<FhirResource>(app, `Encounter?appointment=Appointment/${encodeURIComponent(appointmentId)}&status=in-progress`);
      if (!alive) return;
      const encounter = matches[0];
      if (!encounter?.id) {
        setText(status, 'hospitalVisitNotStarted');
        refresh.hidden = false;
        return;
      }
      showText(status, '');
      const chat = visitChat(app, encounter.id, scope);
      const patient = (encounter.subject as { reference?: string } | undefined)?.reference;
      const doctorTools = role === 'clinician'
        ? el('div', { className: 'doctor-tools' }, [patient ? prescribeForm(app, { encounterId: encounter.id, patient }, scope) : '', endVisitForm(app, encounter.id, chat.markEnded)])
        : '';
      body.replaceChildren(chat.root, doctorTools);
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
  };
  refresh.addEventListener('click', () => void load());
  void load();
}
