// Resident: order home nursing (POST Patient/{me}/$order-home-nursing, NU-02/04/05) — items from
// the active catalogue (ActivityDefinitions coded in the home-nursing system, with their prices),
// the provider (community health centres and district hospitals), the eligibility, the service
// address, the preferred start and a note. A refusal is shown as the hub words it.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText } from '../hospital/format.js';
import { isRefusal, operation, search, type FhirResource, type Parameter } from '../hospital/hospital-api.js';
import { codeOf, ELIGIBILITY, eligibilityKey, INSTITUTION_CATEGORY, itemName, localToIso, priceOf } from './nursing-codes.js';

type Item = FhirResource & { title?: string; name?: string; code?: { coding?: { system?: string; code?: string }[] }; extension?: { url: string; valueMoney?: { value?: number } }[] };
type Organization = FhirResource & { name?: string };

export function orderFormPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const me = app.session.fhirUser() ?? '';
  const items = el('fieldset', { attrs: { 'data-testid': 'order-items' } }, [el('legend', { i18n: 'nursingItems' })]);
  const provider = el('select', { attrs: { 'data-testid': 'order-provider' } }, [el('option', { i18n: 'nursingChoose', attrs: { value: '' } })]);
  const eligibility = el('select', { attrs: { 'data-testid': 'order-eligibility' } }, [
    el('option', { i18n: 'nursingChoose', attrs: { value: '' } }),
    ...ELIGIBILITY.map((code) => el('option', { i18n: eligibilityKey(code), attrs: { value: code } })),
  ]);
  const address = el('textarea', { attrs: { rows: 2, maxlength: 500, 'data-testid': 'order-address' } });
  const start = el('input', { attrs: { type: 'datetime-local', 'data-testid': 'order-start' } });
  const note = el('input', { attrs: { type: 'text', maxlength: 1000, 'data-testid': 'order-note' } });
  const submit = el('button', { className: 'primary', i18n: 'nursingSubmitOrder', attrs: { type: 'submit', 'data-testid': 'order-submit' } });
  const outcome = el('p', { className: 'outcome wide', attrs: { role: 'status', 'data-testid': 'order-outcome' } });
  const field = (key: MessageKey, control: HTMLElement, className = '') => el('label', { className }, [el('span', { i18n: key }), control]);
  const form = el('form', { className: 'nursing-form', attrs: { 'data-testid': 'order-form' } }, [
    items, el('div', {}, [field('nursingProvider', provider), field('nursingEligibility', eligibility), field('nursingStart', start)]),
    field('nursingAddress', address, 'wide'), field('nursingNote', note, 'wide'), el('div', { className: 'wide' }, [submit]), outcome,
  ]);
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'order-status' }, i18n: 'nursingLoading' });
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'nursing-order' } }, [el('h1', { i18n: 'nursingOrder' }), status, form]);
  container.replaceChildren(section);

  const load = async () => {
    try {
      const [catalogue, centres, hospitals] = await Promise.all([
        search<Item>(app, 'ActivityDefinition?status=active&_count=100'),
        search<Organization>(app, `Organization?type=${encodeURIComponent(`${INSTITUTION_CATEGORY}|community-health-centre`)}&active=true&_count=100`),
        search<Organization>(app, `Organization?type=${encodeURIComponent(`${INSTITUTION_CATEGORY}|district-hospital`)}&active=true&_count=100`),
      ]);
      if (!alive) return;
      for (const item of catalogue.matches.filter((a) => codeOf(a.code))) {
        const code = codeOf(item.code);
        const price = priceOf(item);
        items.append(el('label', {}, [
          el('input', { attrs: { type: 'checkbox', value: `ActivityDefinition/${item.id}`, 'data-testid': 'order-item', 'data-code': code } }),
          el('span', { text: item.title ?? item.name ?? itemName(code) }),
          price !== undefined ? el('span', { className: 'price', text: `¥${price}` }) : null,
        ]));
      }
      for (const org of [...centres.matches, ...hospitals.matches]) provider.append(el('option', { text: org.name ?? org.id ?? '', attrs: { value: `Organization/${org.id}` } }));
      showText(status, '');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = [...items.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    const lines = address.value.split('\n').map((l) => l.trim()).filter(Boolean);
    delete form.dataset.outcome;
    if (!chosen.length || !provider.value || !eligibility.value || !lines.length) {
      outcome.className = 'outcome wide error';
      form.dataset.outcome = 'invalid';
      return setText(outcome, 'nursingOrderMissing');
    }
    const parameter: Parameter[] = [
      ...chosen.map((reference) => ({ name: 'item', valueReference: { reference } })),
      { name: 'provider', valueReference: { reference: provider.value } },
      { name: 'eligibility', valueCode: eligibility.value },
      { name: 'address', valueAddress: { text: lines.join(' '), line: lines, city: '上海市' } },
    ];
    const preferred = localToIso(start.value);
    if (preferred) parameter.push({ name: 'preferredStart', valueDateTime: preferred });
    if (note.value.trim()) parameter.push({ name: 'note', valueString: note.value.trim() });
    submit.disabled = true;
    operation<{ parameter?: { name: string; resource?: FhirResource }[] }>(app, `${me}/$order-home-nursing`, parameter)
      .then((body) => {
        const order = body.parameter?.find((p) => p.name === 'serviceRequest')?.resource;
        outcome.className = 'outcome wide done';
        form.dataset.outcome = 'ordered';
        form.dataset.order = order?.id ?? '';
        outcome.replaceChildren(
          el('span', { i18n: 'nursingOrdered' }), ' ',
          el('a', { i18n: 'nursingFollowOrder', attrs: { href: `#/nursing/order/${order?.id ?? ''}`, 'data-testid': 'order-follow' } }),
        );
      })
      .catch((err: unknown) => {
        outcome.className = 'outcome wide error';
        form.dataset.outcome = isRefusal(err) ? 'refused' : 'failed';
        showText(outcome, failureText(err, isRefusal(err)));
      })
      .finally(() => (submit.disabled = false));
  });
  void load();
}
