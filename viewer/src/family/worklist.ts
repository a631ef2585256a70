// Doctor: the worklist (GET Contract/$worklist): what is due or overdue for the signed residents
// (FD-07 hypertension, FD-08 diabetes and fasting glucose, FD-09 health check and follow-up after
// referral), overdue first, with this year's count done against the required. "Record" opens the
// follow-up form under the row; once the hub has it, the worklist reloads and the item is gone.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText } from '../hospital/format.js';
import { isRefusal } from '../hospital/hospital-api.js';
import { countOf, entriesOf, kindKey, type ParametersBody } from './family-codes.js';
import { followUpForm } from './follow-up-form.js';

export function worklistPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const count = el('span', { attrs: { 'data-testid': 'worklist-count' } });
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'worklist-status' }, i18n: 'familyLoading' });
  const rows = el('tbody');
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'family-worklist' } }, [
    el('h1', { i18n: 'familyWorklist' }),
    el('div', { className: 'filters' }, [count]),
    status,
    el('table', {}, [
      el('thead', {}, [el('tr', {}, [
        el('th', { i18n: 'familyPatient' }), el('th', { i18n: 'familyItem' }), el('th', { i18n: 'familyRule' }), el('th', { i18n: 'familyDue' }),
        el('th', { i18n: 'familyStatus' }), el('th', { i18n: 'familyDoneThisYear' }), el('th'),
      ])]),
      rows,
    ]),
  ]);
  container.replaceChildren(section);

  const load = async () => {
    delete section.dataset.loaded;
    try {
      const body = await app.client.json<ParametersBody>(`${app.hub.fhirBase}/Contract/$worklist`, { accept: 'application/fhir+json' });
      if (!alive) return;
      const items = entriesOf(body, 'item');
      rows.replaceChildren(...items.map(row));
      setText(count, 'familyItemCount', { count: countOf(body) ?? items.length });
      if (items.length) showText(status, '');
      else setText(status, 'familyNoItems');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };

  const row = (item: ReturnType<typeof entriesOf>[number]): HTMLElement => {
    const patient = item.get('patient')?.[0]?.valueReference;
    const kind = item.get('kind')?.[0]?.valueCode ?? '';
    const state = item.get('status')?.[0]?.valueCode ?? '';
    const name = patient?.display ?? patient?.reference ?? '';
    const record = el('button', { className: 'primary', i18n: 'familyRecord', attrs: { type: 'button', 'data-testid': 'record-follow-up' } });
    const tr = el('tr', { attrs: { 'data-testid': 'worklist-row', 'data-patient': patient?.reference, 'data-kind': kind, 'data-status': state } }, [
      el('td', { text: name }),
      el('td', { i18n: kindKey(kind) }),
      el('td', { text: item.get('rule')?.[0]?.valueCode ?? '' }),
      el('td', { text: item.get('dueDate')?.[0]?.valueDate ?? '' }),
      el('td', { className: 'item-status', i18n: state === 'overdue' ? 'familyStatus_overdue' : 'familyStatus_due' }),
      el('td', { text: `${item.get('doneLastYear')?.[0]?.valueInteger ?? 0} / ${item.get('requiredPerYear')?.[0]?.valueInteger ?? 0}` }),
      el('td', { className: 'actions' }, [record]),
    ]);
    record.addEventListener('click', () => {
      const open = tr.nextElementSibling as HTMLElement | null;
      if (open?.classList.contains('follow-up-row')) return void open.remove();
      const formRow = el('tr', { className: 'follow-up-row', attrs: { 'data-testid': 'follow-up-row', 'data-patient': patient?.reference, 'data-kind': kind } });
      const close = () => formRow.remove();
      formRow.append(el('td', { attrs: { colspan: 7 } }, [followUpForm(app, { patient: patient?.reference ?? '', name, kind }, () => void load(), close)]));
      tr.after(formRow);
    });
    return tr;
  };
  void load();
}
