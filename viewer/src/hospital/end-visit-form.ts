// Doctor: end the visit (Encounter/{id}/$end-visit) with a summary — the outpatient record —
// a diagnosis (ICD-10 code and its text) and, optionally, the reason to refer the patient to an
// offline visit (IH-03), which the hub records as a ServiceRequest.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import { failureText, showText } from './format.js';
import { isRefusal, operation, type Parameter } from './hospital-api.js';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';

export function endVisitForm(app: AppContext, encounterId: string, onEnded: () => void): HTMLElement {
  const summary = el('textarea', { attrs: { rows: 4, maxlength: 4000, 'data-testid': 'end-summary' } });
  const code = el('input', { attrs: { type: 'text', maxlength: 16, pattern: '[A-Z][0-9]{2}(\\.[0-9A-Z]{1,4})?', 'data-testid': 'end-diagnosis-code' } });
  const display = el('input', { attrs: { type: 'text', maxlength: 200, 'data-testid': 'end-diagnosis-text' } });
  const refer = el('input', { attrs: { type: 'text', maxlength: 500, 'data-testid': 'end-refer-reason' } });
  const submit = el('button', { className: 'primary', i18n: 'hospitalEndVisit', attrs: { type: 'submit', 'data-testid': 'end-visit' } });
  const outcome = el('p', { attrs: { role: 'status', 'data-testid': 'end-outcome' } });
  const field = (key: MessageKey, control: HTMLElement) => el('label', {}, [el('span', { i18n: key }), control]);
  const form = el('form', { className: 'end-visit', attrs: { 'data-testid': 'end-visit-form' } }, [
    el('h2', { i18n: 'hospitalEndVisit' }),
    field('hospitalSummary', summary),
    field('hospitalDiagnosisCode', code),
    field('hospitalDiagnosisText', display),
    field('hospitalReferOffline', refer),
    submit,
    outcome,
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!summary.value.trim()) {
      outcome.className = 'error';
      return setText(outcome, 'hospitalSummaryMissing');
    }
    const parameter: Parameter[] = [{ name: 'summary', valueString: summary.value.trim() }];
    if (code.value.trim()) parameter.push({ name: 'diagnosis', valueCoding: { system: ICD10, code: code.value.trim().toUpperCase(), ...(display.value.trim() ? { display: display.value.trim() } : {}) } });
    if (refer.value.trim()) parameter.push({ name: 'referOffline', part: [{ name: 'reason', valueString: refer.value.trim() }] });
    submit.disabled = true;
    operation<{ parameter?: { name: string }[] }>(app, `Encounter/${encodeURIComponent(encounterId)}/$end-visit`, parameter)
      .then((result) => {
        outcome.className = '';
        form.dataset.state = 'ended';
        const referred = result.parameter?.some((p) => p.name === 'referral');
        showText(outcome, '');
        outcome.append(el('span', { i18n: 'hospitalEnded' }), referred ? el('span', { i18n: 'hospitalReferred', attrs: { 'data-testid': 'end-referred' } }) : '');
        for (const control of [summary, code, display, refer]) control.disabled = true;
        onEnded();
      })
      .catch((err: unknown) => {
        outcome.className = 'error';
        showText(outcome, failureText(err, isRefusal(err)));
        submit.disabled = false;
      });
  });
  return form;
}
