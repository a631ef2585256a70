// Doctor: record a face-to-face follow-up (POST Patient/{id}/$record-follow-up) from a worklist
// item — the kind preselected from the item (a fasting-glucose test is recorded with a diabetes
// follow-up, the glucose field focused), at the centre (AMB) or at home (HH), blood pressure
// (both values or neither, checked here before the hub), fasting glucose and a note.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import { showText } from '../hospital/format.js';
import type { Parameter } from '../hospital/hospital-api.js';
import { kindKey, RECORDABLE_KINDS } from './family-codes.js';
import { submitOperation } from '../hospital/form-operation.js';

export function followUpForm(app: AppContext, item: { patient: string; name: string; kind: string }, onRecorded: () => void, onCancel: () => void): HTMLElement {
  const preselect = item.kind === 'fasting-glucose' ? 'diabetes-follow-up' : item.kind;
  const kind = el('select', { attrs: { 'data-testid': 'follow-up-kind' } }, RECORDABLE_KINDS.map((k) => el('option', { i18n: kindKey(k), attrs: { value: k, selected: k === preselect } })));
  const where = el('select', { attrs: { 'data-testid': 'follow-up-class' } }, [
    el('option', { i18n: 'familyClass_AMB', attrs: { value: 'AMB' } }),
    el('option', { i18n: 'familyClass_HH', attrs: { value: 'HH' } }),
  ]);
  const number = (testid: string, min: number, max: number, step = '1') => el('input', { attrs: { type: 'number', min, max, step, 'data-testid': testid } });
  const systolic = number('follow-up-systolic', 40, 300);
  const diastolic = number('follow-up-diastolic', 20, 200);
  const glucose = number('follow-up-glucose', 0.5, 50, '0.1');
  const note = el('input', { attrs: { type: 'text', maxlength: 1000, 'data-testid': 'follow-up-note' } });
  const save = el('button', { className: 'primary', i18n: 'familySave', attrs: { type: 'submit', 'data-testid': 'follow-up-save' } });
  const cancel = el('button', { i18n: 'familyCancel', attrs: { type: 'button', 'data-testid': 'follow-up-cancel' }, on: { click: onCancel } });
  const outcome = el('span', { attrs: { role: 'status', 'data-testid': 'follow-up-outcome' } });
  const field = (key: MessageKey, control: HTMLElement, className = '') => el('label', { className }, [el('span', { i18n: key }), control]);
  const form = el('form', { className: 'follow-up', attrs: { 'data-testid': 'follow-up-form' } }, [
    el('strong', { className: 'wide', i18n: 'familyRecordTitle', i18nValues: { name: item.name } }),
    field('familyKind', kind), field('familyClass', where), field('familySystolic', systolic), field('familyDiastolic', diastolic),
    field('familyGlucose', glucose), field('familyNote', note, 'note'), save, cancel, outcome,
  ]);
  if (item.kind === 'fasting-glucose') queueMicrotask(() => glucose.focus());
  // A correction clears the page's own complaint.
  form.addEventListener('input', () => {
    if (form.dataset.outcome !== 'invalid') return;
    form.dataset.outcome = '';
    showText(outcome, '');
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    form.dataset.outcome = '';
    if (!systolic.value !== !diastolic.value) {
      outcome.className = 'error';
      form.dataset.outcome = 'invalid';
      return setText(outcome, 'familyBpBoth');
    }
    const parameter: Parameter[] = [{ name: 'kind', valueCode: kind.value }, { name: 'class', valueCode: where.value }];
    if (systolic.value) parameter.push({ name: 'systolic', valueInteger: Math.round(Number(systolic.value)) }, { name: 'diastolic', valueInteger: Math.round(Number(diastolic.value)) });
    if (glucose.value) parameter.push({ name: 'fastingGlucose', valueDecimal: Number(glucose.value) });
    if (note.value.trim()) parameter.push({ name: 'note', valueString: note.value.trim() });
    submitOperation(app, `${item.patient}/$record-follow-up`, parameter, { form, outcome, submit: save }, 'recorded', () => {
      outcome.className = 'done';
      setText(outcome, 'familyRecorded');
      onRecorded();
    });
  });
  return form;
}
