// Doctor: the panel of residents signed with them (GET Contract/$panel[?group=…]): name, the
// priority groups the hub computes from the record (FD-01/04) as small labels, and when the
// contract ends; a group filter reloads the panel for that group.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText } from '../hospital/format.js';
import { isRefusal } from '../hospital/hospital-api.js';
import { countOf, entriesOf, GROUPS, groupKey, type ParametersBody } from './family-codes.js';

export function panelPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const group = el('select', { attrs: { 'data-testid': 'panel-group' } }, [
    el('option', { i18n: 'familyAllGroups', attrs: { value: '' } }),
    ...Object.entries(GROUPS).map(([code, key]) => el('option', { i18n: key, attrs: { value: code } })),
  ]);
  const count = el('span', { attrs: { 'data-testid': 'panel-count' } });
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'panel-status' }, i18n: 'familyLoading' });
  const rows = el('tbody');
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'family-panel' } }, [
    el('h1', { i18n: 'familyPanel' }),
    el('div', { className: 'filters' }, [el('label', {}, [el('span', { i18n: 'familyGroup' }), group]), count]),
    status,
    el('table', {}, [
      el('thead', {}, [el('tr', {}, [el('th', { i18n: 'familyName' }), el('th', { i18n: 'familyGroup' }), el('th', { i18n: 'familyContractEnd' })])]),
      rows,
    ]),
  ]);
  container.replaceChildren(section);

  const load = async () => {
    delete section.dataset.loaded;
    setText(status, 'familyLoading');
    try {
      const query = group.value ? `?group=${encodeURIComponent(group.value)}` : '';
      const body = await app.client.json<ParametersBody>(`${app.hub.fhirBase}/Contract/$panel${query}`, { accept: 'application/fhir+json' });
      if (!alive) return;
      const members = entriesOf(body, 'member');
      rows.replaceChildren(...members.map((m) => {
        const patient = m.get('patient')?.[0]?.valueReference;
        const groups = (m.get('group') ?? []).map((g) => g.valueCode ?? '');
        return el('tr', { attrs: { 'data-testid': 'panel-row', 'data-patient': patient?.reference, 'data-groups': groups.join(' ') } }, [
          el('td', { text: patient?.display ?? patient?.reference ?? '' }),
          el('td', {}, groups.map((g) => el('span', { className: 'group-label', i18n: groupKey(g), attrs: { 'data-group': g } }))),
          el('td', { text: m.get('contractEnd')?.[0]?.valueDate ?? '' }),
        ]);
      }));
      setText(count, 'familyCount', { count: countOf(body) ?? members.length });
      if (members.length) showText(status, '');
      else setText(status, 'familyNoMembers');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };
  group.addEventListener('change', () => void load());
  void load();
}
