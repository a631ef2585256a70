// Nurse: my visits (Task?owner=Practitioner/<me>&code=…|visit&status=accepted,in-progress) — each
// a card with the patient, the service address and items (from the order), the scheduled start,
// and the buttons of the visit (visit-card.ts): check in, check out with the care record, and the
// one-tap alarm.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText } from '../hospital/format.js';
import { isRefusal, search } from '../hospital/hospital-api.js';
import { HN, type Task } from './nursing-codes.js';
import { visitCard } from './visit-card.js';

export function myVisitsPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const me = app.session.fhirUser() ?? '';
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'visits-status' }, i18n: 'nursingLoading' });
  const list = el('div', { className: 'visit-cards', attrs: { 'data-testid': 'visit-list' } });
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'nursing-visits' } }, [el('h1', { i18n: 'nursingMyVisits' }), status, list]);
  container.replaceChildren(section);

  const load = async () => {
    delete section.dataset.loaded;
    try {
      const { matches } = await search<Task>(app, `Task?owner=${encodeURIComponent(me)}&code=${encodeURIComponent(`${HN}|visit`)}&status=accepted,in-progress&_sort=-_lastUpdated&_count=50`);
      const cards = await Promise.all(matches.map((task) => visitCard(app, task, () => void load())));
      if (!alive) return;
      list.replaceChildren(...cards);
      if (matches.length) showText(status, '');
      else setText(status, 'nursingNoVisits');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };
  void load();
}
