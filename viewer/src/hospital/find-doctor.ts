// Resident: find a doctor's free slot by department, doctor and date, and book it.
// Slots come from `Slot?status=free&start=ge…&_include=Slot:schedule` (the Schedule names the
// doctor and the department); $book's refusal (e.g. IH-01/IH-02: online visits are follow-ups)
// is shown as the hub words it.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { dayStart, failureText, showText, localDay, personName, when } from './format.js';
import { isRefusal, operation, read, search, type FhirResource } from './hospital-api.js';

interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface Schedule extends FhirResource {
  actor?: { reference?: string; display?: string }[];
  specialty?: { coding?: Coding[]; text?: string }[];
}
interface Slot extends FhirResource {
  start?: string;
  end?: string;
  schedule?: { reference?: string };
}

const departmentOf = (schedule: Schedule | undefined) => schedule?.specialty?.[0]?.coding?.[0];
const doctorOf = (schedule: Schedule | undefined) => schedule?.actor?.find((a) => a.reference?.startsWith('Practitioner/'))?.reference;

export function findDoctorPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const department = el('select', { attrs: { 'data-testid': 'find-department' } }, [el('option', { i18n: 'hospitalAny', attrs: { value: '' } })]);
  const doctor = el('select', { attrs: { 'data-testid': 'find-doctor' } }, [el('option', { i18n: 'hospitalAny', attrs: { value: '' } })]);
  const date = el('input', { attrs: { type: 'date', value: localDay(), 'data-testid': 'find-date' } });
  const reason = el('input', { attrs: { type: 'text', maxlength: 200, 'data-testid': 'book-reason' } });
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'find-status' } });
  const results = el('tbody');
  const table = el('table', { className: 'slots', attrs: { 'data-testid': 'slots' } }, [
    el('thead', {}, [el('tr', {}, [el('th', { i18n: 'hospitalTime' }), el('th', { i18n: 'hospitalDoctor' }), el('th', { i18n: 'hospitalDepartment' }), el('th')])]),
    results,
  ]);
  const outcome = el('p', { attrs: { 'data-testid': 'book-outcome' } });
  const names = new Map<string, string>();

  const label = (text: HTMLElement, control: HTMLElement) => el('label', {}, [text, control]);
  const form = el('form', { className: 'filters', attrs: { 'data-testid': 'find-form' } }, [
    label(el('span', { i18n: 'hospitalDepartment' }), department),
    label(el('span', { i18n: 'hospitalDoctor' }), doctor),
    label(el('span', { i18n: 'hospitalDate' }), date),
    el('button', { className: 'primary', i18n: 'hospitalSearch', attrs: { type: 'submit', 'data-testid': 'find-search' } }),
  ]);
  container.replaceChildren(el('section', { className: 'hospital-page', attrs: { 'data-testid': 'find-doctor-page' } }, [
    el('h1', { i18n: 'hospitalFindDoctor' }),
    form,
    label(el('span', { i18n: 'hospitalReason' }), reason),
    outcome,
    status,
    table,
  ]));

  const nameOf = async (reference: string | undefined): Promise<string> => {
    if (!reference) return '';
    if (!names.has(reference)) names.set(reference, personName(await read(app, reference).catch(() => undefined)) ?? reference);
    return names.get(reference)!;
  };

  // The choices: every active schedule's doctor and department.
  void search<Schedule>(app, 'Schedule?active=true&_count=200').then(async ({ matches }) => {
    const departments = new Map<string, string>();
    const doctors = new Set<string>();
    for (const schedule of matches) {
      const code = departmentOf(schedule);
      if (code?.code) departments.set(`${code.system ?? ''}|${code.code}`, code.display ?? code.code);
      const ref = doctorOf(schedule);
      if (ref) doctors.add(ref);
    }
    for (const [value, text] of departments) department.append(el('option', { text, attrs: { value } }));
    for (const ref of doctors) doctor.append(el('option', { text: await nameOf(ref), attrs: { value: ref } }));
    if (alive) container.querySelector('section')!.dataset.choices = 'ready';
  }, () => undefined);

  const find = async () => {
    setText(status, 'hospitalLoading');
    results.replaceChildren();
    const query = new URLSearchParams({ status: 'free', start: `ge${dayStart(date.value || localDay())}`, _include: 'Slot:schedule', _sort: 'start', _count: '50' });
    if (department.value) query.set('specialty', department.value);
    if (doctor.value) query.set('schedule.actor', doctor.value);
    try {
      const { matches, included } = await search<Slot>(app, `Slot?${query}`);
      if (!alive) return;
      showText(status, '');
      if (!matches.length) setText(status, 'hospitalNoSlots');
      for (const slot of matches) {
        const schedule = included.get(slot.schedule?.reference ?? '') as Schedule | undefined;
        const dept = departmentOf(schedule);
        const book = el('button', { className: 'primary', i18n: 'hospitalBook', attrs: { 'data-testid': 'book-slot', 'data-slot': slot.id } });
        book.addEventListener('click', () => void bookSlot(slot, book));
        results.append(el('tr', { attrs: { 'data-testid': 'slot-row', 'data-slot': slot.id, 'data-doctor': doctorOf(schedule) ?? '' } }, [
          el('td', { text: when(slot.start) }),
          el('td', { text: await nameOf(doctorOf(schedule)) }),
          el('td', { text: dept?.display ?? dept?.code ?? '' }),
          el('td', {}, [book]),
        ]));
      }
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
  };

  const bookSlot = async (slot: Slot, button: HTMLButtonElement) => {
    button.disabled = true;
    showText(outcome, '');
    outcome.className = '';
    try {
      const parameter = [{ name: 'slot', valueReference: { reference: `Slot/${slot.id}` } }, ...(reason.value.trim() ? [{ name: 'reason', valueString: reason.value.trim() }] : [])];
      const appointment = await operation<FhirResource & { start?: string }>(app, 'Appointment/$book', parameter);
      outcome.dataset.state = 'booked';
      outcome.dataset.appointment = appointment.id ?? '';
      setText(outcome, 'hospitalBooked', { when: when(appointment.start) });
      button.closest('tr')?.remove();
    } catch (err) {
      outcome.className = 'error';
      outcome.setAttribute('role', 'alert');
      outcome.dataset.state = 'refused';
      showText(outcome, failureText(err, isRefusal(err)));
      button.disabled = false;
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void find();
  });
  void find();
}
