// Provider staff: the home assessment of an order on hold (POST ServiceRequest/{id}/$assess,
// NU-06) — the six items of the hub's assessment Questionnaire (mobility, cognition, home safety,
// fall risk as choices, whether a caregiver is present, the conclusion) sent as a completed
// QuestionnaireResponse, and the decision: accept, or decline with a reason (which revokes the order).
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import type { Parameter } from '../hospital/hospital-api.js';
import { ASSESSMENT_CHOICES, ASSESSMENT_QUESTIONNAIRE, type Order } from './nursing-codes.js';
import { submitOperation } from '../hospital/form-operation.js';

export function assessForm(app: AppContext, order: Order, onDone: () => void): HTMLElement {
  const field = (key: MessageKey, control: HTMLElement, className = '') => el('label', { className }, [el('span', { i18n: key }), control]);
  const choices = ASSESSMENT_CHOICES.map((item) => ({
    item,
    select: el('select', { attrs: { 'data-testid': `assess-${item.linkId}` } }, [
      el('option', { i18n: 'nursingChoose', attrs: { value: '' } }),
      ...item.options.map((o) => el('option', { i18n: o.key, attrs: { value: o.code } })),
    ]),
  }));
  const caregiver = el('select', { attrs: { 'data-testid': 'assess-caregiver-present' } }, [
    el('option', { i18n: 'nursingChoose', attrs: { value: '' } }), el('option', { i18n: 'nursingYes', attrs: { value: 'true' } }), el('option', { i18n: 'nursingNo', attrs: { value: 'false' } }),
  ]);
  const conclusion = el('input', { attrs: { type: 'text', maxlength: 1000, 'data-testid': 'assess-conclusion' } });
  const decision = el('select', { attrs: { 'data-testid': 'assess-decision' } }, [el('option', { i18n: 'nursingAccept', attrs: { value: 'accept' } }), el('option', { i18n: 'nursingDecline', attrs: { value: 'decline' } })]);
  const reason = el('input', { attrs: { type: 'text', maxlength: 1000, 'data-testid': 'assess-reason' } });
  const submit = el('button', { className: 'primary', i18n: 'nursingAssessSubmit', attrs: { type: 'submit', 'data-testid': 'assess-submit' } });
  const outcome = el('span', { attrs: { role: 'status', 'data-testid': 'assess-outcome' } });
  const form = el('form', { className: 'nursing-inline-form', attrs: { 'data-testid': 'assess-form', 'data-order': order.id } }, [
    el('strong', { className: 'wide', i18n: 'nursingAssessTitle' }),
    ...choices.map(({ item, select }) => field(item.key, select)),
    field('nursingAssessCaregiver', caregiver), field('nursingAssessConclusion', conclusion, 'note'),
    field('nursingDecision', decision), field('nursingReason', reason, 'note'), submit, outcome,
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (choices.some((c) => !c.select.value) || !caregiver.value || !conclusion.value.trim() || (decision.value === 'decline' && !reason.value.trim())) {
      outcome.className = 'error';
      form.dataset.outcome = 'invalid';
      return setText(outcome, 'nursingAssessMissing');
    }
    const answers = {
      resourceType: 'QuestionnaireResponse',
      questionnaire: ASSESSMENT_QUESTIONNAIRE,
      status: 'completed',
      item: [
        ...choices.map(({ item, select }) => {
          const option = item.options.find((o) => o.code === select.value)!;
          return { linkId: item.linkId, answer: [{ valueCoding: { code: option.code, display: option.display } }] };
        }),
        { linkId: 'caregiver-present', answer: [{ valueBoolean: caregiver.value === 'true' }] },
        { linkId: 'conclusion', answer: [{ valueString: conclusion.value.trim() }] },
      ],
    };
    const parameter: Parameter[] = [{ name: 'decision', valueCode: decision.value }, { name: 'assessment', resource: answers }];
    if (reason.value.trim()) parameter.push({ name: 'reason', valueString: reason.value.trim() });
    submitOperation(app, `ServiceRequest/${order.id}/$assess`, parameter, { form, outcome, submit }, 'assessed', () => {
      onDone();
    });
  });
  return form;
}
