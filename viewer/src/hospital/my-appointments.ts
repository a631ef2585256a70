// Resident: my appointments (Appointment?patient=…), with their state; a booked one can be
// cancelled with a reason (Appointment/{id}/$cancel); one whose visit has started opens the visit.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { appointmentStatusKey, failureText, personName, showText, when } from './format.js';
import { isRefusal, operation, read, search, type FhirResource } from './hospital-api.js';

export interface Appointment extends FhirResource {
  status?: string;
  start?: string;
  participant?: { actor?: { reference?: string; display?: string } }[];
  cancelationReason?: { text?: string };
}

export const participantOf = (appointment: Appointment, type: 'Patient' | 'Practitioner') =>
  appointment.participant?.find((p) => p.actor?.reference?.startsWith(`${type}/`))?.actor?.reference;

export function myAppointmentsPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const me = app.session.fhirUser() ?? '';
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'appointments-status' }, i18n: 'hospitalLoading' });
  const rows = el('tbody');
  container.replaceChildren(el('section', { className: 'hospital-page', attrs: { 'data-testid': 'my-appointments' } }, [
    el('h1', { i18n: 'hospitalMyAppointments' }),
    status,
    el('table', { className: 'appointments' }, [
      el('thead', {}, [el('tr', {}, [el('th', { i18n: 'hospitalTime' }), el('th', { i18n: 'hospitalDoctor' }), el('th', { i18n: 'hospitalStatus' }), el('th')])]),
      rows,
    ]),
  ]));

  const load = async () => {
    try {
      const { matches } = await search<Appointment>(app, `Appointment?patient=${encodeURIComponent(me)}&_sort=-date&_count=100`);
      if (!alive) return;
      rows.replaceChildren();
      if (matches.length) showText(status, '');
      else setText(status, 'hospitalNoAppointments');
      for (const appointment of matches) rows.append(await row(appointment));
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
  };

  const row = async (appointment: Appointment): Promise<HTMLElement> => {
    const doctorRef = participantOf(appointment, 'Practitioner');
    const doctor = doctorRef ? personName(await read(app, doctorRef).catch(() => undefined)) ?? doctorRef : '';
    const actions = el('td', { className: 'actions' });
    const error = el('span', { className: 'error', attrs: { role: 'alert', 'data-testid': 'appointment-error' } });
    if (appointment.status === 'booked') {
      const reason = el('input', { attrs: { type: 'text', maxlength: 200, 'data-testid': 'cancel-reason' }, i18nAttrs: { 'aria-label': 'hospitalCancelReason', placeholder: 'hospitalCancelReason' } });
      const cancel = el('button', { i18n: 'hospitalCancel', attrs: { 'data-testid': 'cancel-appointment' } });
      cancel.addEventListener('click', () => {
        if (!reason.value.trim()) return setText(error, 'hospitalCancelReasonMissing');
        cancel.disabled = true;
        operation(app, `Appointment/${encodeURIComponent(appointment.id!)}/$cancel`, [{ name: 'reason', valueString: reason.value.trim() }])
          .then(() => load())
          .catch((err: unknown) => {
            showText(error, failureText(err, isRefusal(err)));
            cancel.disabled = false;
          });
      });
      actions.append(reason, cancel);
    }
    if (appointment.status === 'booked' || appointment.status === 'arrived') {
      actions.append(el('a', { className: 'button', i18n: 'hospitalOpenChat', attrs: { href: `#/hospital/visit/${encodeURIComponent(appointment.id!)}`, 'data-testid': 'open-visit' } }));
    }
    actions.append(error);
    return el('tr', { attrs: { 'data-testid': 'appointment-row', 'data-appointment': appointment.id, 'data-status': appointment.status } }, [
      el('td', { text: when(appointment.start) }),
      el('td', { text: doctor }),
      el('td', { i18n: appointmentStatusKey(appointment.status) }),
      actions,
    ]);
  };
  void load();
}
