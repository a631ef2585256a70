// Provider staff: dispatch a nurse to an assessed order (POST ServiceRequest/{id}/$dispatch) —
// the nurses registered at the provider (PractitionerRole?organization=…, their Practitioners
// included; those with a nurse qualification), and the scheduled start. The hub checks the nurse
// (NU-03: licence years, title 护师 or higher, registry entry, not suspended) and says what is missing.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import { personName } from '../hospital/format.js';
import { search, type FhirResource, type Parameter } from '../hospital/hospital-api.js';
import { localToIso, QUALIFICATION, type Order } from './nursing-codes.js';
import { submitOperation } from '../hospital/form-operation.js';

type Practitioner = FhirResource & { qualification?: { code?: { coding?: { system?: string; code?: string }[] } }[] };
type Role = FhirResource & { practitioner?: { reference?: string } };

export async function dispatchForm(app: AppContext, order: Order, onDone: () => void): Promise<HTMLElement> {
  const provider = order.performer?.[0]?.reference ?? '';
  const nurse = el('select', { attrs: { 'data-testid': 'dispatch-nurse' } }, [el('option', { i18n: 'nursingChoose', attrs: { value: '' } })]);
  try {
    const { matches, included } = await search<Role>(app, `PractitionerRole?organization=${encodeURIComponent(provider)}&active=true&_include=PractitionerRole:practitioner&_count=200`);
    const people = [...new Set(matches.map((r) => r.practitioner?.reference).filter((r): r is string => !!r))].map((ref) => ({ ref, practitioner: included.get(ref) as Practitioner | undefined }));
    const isNurse = (p: Practitioner | undefined) => !!p?.qualification?.some((q) => q.code?.coding?.some((c) => c.system === QUALIFICATION && (c.code === 'nurse-licence' || c.code === 'nurse-title')));
    const nurses = people.some((p) => isNurse(p.practitioner)) ? people.filter((p) => isNurse(p.practitioner)) : people;
    for (const p of nurses) nurse.append(el('option', { text: personName(p.practitioner) ?? p.ref, attrs: { value: p.ref } }));
  } catch {
    // The select stays empty; the hub's answer to a dispatch would say why.
  }
  const start = el('input', { attrs: { type: 'datetime-local', 'data-testid': 'dispatch-start' } });
  const submit = el('button', { className: 'primary', i18n: 'nursingDispatchSubmit', attrs: { type: 'submit', 'data-testid': 'dispatch-submit' } });
  const outcome = el('span', { attrs: { role: 'status', 'data-testid': 'dispatch-outcome' } });
  const field = (key: MessageKey, control: HTMLElement) => el('label', {}, [el('span', { i18n: key }), control]);
  const form = el('form', { className: 'nursing-inline-form', attrs: { 'data-testid': 'dispatch-form', 'data-order': order.id } }, [
    el('strong', { className: 'wide', i18n: 'nursingDispatchTitle' }), field('nursingNurse', nurse), field('nursingScheduledStart', start), submit, outcome,
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!nurse.value) {
      outcome.className = 'error';
      form.dataset.outcome = 'invalid';
      return setText(outcome, 'nursingNurseMissing');
    }
    const parameter: Parameter[] = [{ name: 'nurse', valueReference: { reference: nurse.value } }];
    const scheduled = localToIso(start.value);
    if (scheduled) parameter.push({ name: 'scheduledStart', valueDateTime: scheduled });
    submitOperation(app, `ServiceRequest/${order.id}/$dispatch`, parameter, { form, outcome, submit }, 'dispatched', () => {
      onDone();
    });
  });
  return form;
}
