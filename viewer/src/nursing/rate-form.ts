// Resident: rate the latest completed visit of an order (POST ServiceRequest/{id}/$rate) — a score
// of 1 to 5 stars, a comment, and an optional complaint that the hub queues to the provider.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el } from '../ui/dom.js';
import type { Parameter } from '../hospital/hospital-api.js';
import { submitOperation } from '../hospital/form-operation.js';

export function rateForm(app: AppContext, orderId: string, onRated: () => void): HTMLElement {
  const score = el('select', { attrs: { 'data-testid': 'rate-score' } }, [5, 4, 3, 2, 1].map((n) => el('option', { text: '★'.repeat(n) + '☆'.repeat(5 - n), attrs: { value: n } })));
  const comment = el('input', { attrs: { type: 'text', maxlength: 1000, 'data-testid': 'rate-comment' } });
  const complaint = el('input', { attrs: { type: 'text', maxlength: 1000, 'data-testid': 'rate-complaint' } });
  const submit = el('button', { className: 'primary', i18n: 'nursingRateSubmit', attrs: { type: 'submit', 'data-testid': 'rate-submit' } });
  const outcome = el('span', { attrs: { role: 'status', 'data-testid': 'rate-outcome' } });
  const field = (key: MessageKey, control: HTMLElement) => el('label', {}, [el('span', { i18n: key }), control]);
  const form = el('form', { className: 'nursing-inline-form', attrs: { 'data-testid': 'rate-form' } }, [
    el('strong', { className: 'wide', i18n: 'nursingRateTitle' }), field('nursingScore', score), field('nursingComment', comment), field('nursingComplaint', complaint), submit, outcome,
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const parameter: Parameter[] = [{ name: 'score', valueInteger: Number(score.value) }];
    if (comment.value.trim()) parameter.push({ name: 'comment', valueString: comment.value.trim() });
    if (complaint.value.trim()) parameter.push({ name: 'complaint', valueString: complaint.value.trim() });
    submitOperation(app, `ServiceRequest/${orderId}/$rate`, parameter, { form, outcome, submit }, 'rated', () => {
      onRated();
    });
  });
  return form;
}
