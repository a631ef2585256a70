// Doctor: the day's consultations (Appointment?actor=Practitioner/me&date=…, today by default),
// with the patient and state; "start the visit" (Appointment/{id}/$start-visit) opens the visit.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { appointmentStatusKey, dayStart, failureText, localDay, personName, showText, when } from './format.js';
import { isRefusal, operation, read, search } from './hospital-api.js';
import { participantOf, type Appointment } from './my-appointments.js';

export function consultationsPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const me = app.session.fhirUser() ?? '';
  const date = el('input', { attrs: { type: 'date', value: localDay(), 'data-testid': 'consultations-date' } });
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'consultations-status' }, i18n: 'hospitalLoading' });
  const rows = el('tbody');
  const form = el('form', { className: 'filters' }, [
    el('label', {}, [el('span', { i18n: 'hospitalDate' }), date]),
    el('button', { className: 'primary', i18n: 'hospitalSearch', attrs: { type: 'submit', 'data-testid': 'consultations-search' } }),
  ]);
  container.replaceChildren(el('section', { className: 'hospital-page', attrs: { 'data-testid': 'consultations' } }, [
    el('h1', { i18n: 'hospitalConsultations' }),
    form,
    status,
    el('table', { className: 'appointments' }, [
      el('thead', {}, [el('tr', {}, [el('th', { i18n: 'hospitalTime' }), el('th', { i18n: 'hospitalPatient' }), el('th', { i18n: 'hospitalStatus' }), el('th')])]),
      rows,
    ]),
  ]));

  const load = async () => {
    setText(status, 'hospitalLoading');
    const day = date.value || localDay();
    const query = new URLSearchParams({ actor: me, _sort: 'date', _count: '100' });
    query.append('date', `ge${dayStart(day)}`);
    query.append('date', `lt${dayStart(day, 1)}`);
    try {
      const { matches } = await search<Appointment>(app, `Appointment?${query}`);
      if (!alive) return;
      rows.replaceChildren();
      if (matches.length) showText(status, '');
      else setText(status, 'hospitalNoConsultations');
      for (const appointment of matches) rows.append(await row(appointment));
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
  };

  const row = async (appointment: Appointment): Promise<HTMLElement> => {
    const patientRef = participantOf(appointment, 'Patient');
    const patient = patientRef ? personName(await read(app, patientRef).catch(() => undefined)) ?? patientRef : '';
    const actions = el('td', { className: 'actions' });
    const error = el('span', { className: 'error', attrs: { role: 'alert' } });
    const visit = `#/hospital/visit/${encodeURIComponent(appointment.id!)}`;
    if (appointment.status === 'booked') {
      const start = el('button', { className: 'primary', i18n: 'hospitalStartVisit', attrs: { 'data-testid': 'start-visit' } });
      start.addEventListener('click', () => {
        start.disabled = true;
        operation(app, `Appointment/${encodeURIComponent(appointment.id!)}/$start-visit`, [])
          .then(() => app.navigate(visit))
          .catch((err: unknown) => {
            showText(error, failureText(err, isRefusal(err)));
            start.disabled = false;
          });
      });
      actions.append(start);
    } else if (appointment.status === 'arrived') {
      actions.append(el('a', { className: 'button', i18n: 'hospitalOpenChat', attrs: { href: visit, 'data-testid': 'open-visit' } }));
    }
    actions.append(error);
    return el('tr', { attrs: { 'data-testid': 'consultation-row', 'data-appointment': appointment.id, 'data-status': appointment.status, 'data-patient': patientRef } }, [
      el('td', { text: when(appointment.start) }),
      el('td', { text: patient }),
      el('td', { i18n: appointmentStatusKey(appointment.status) }),
      actions,
    ]);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void load();
}
