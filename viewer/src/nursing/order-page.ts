// One order (#/nursing/order/<id>): its state, address and items, and the timeline of its steps
// from $trace. The resident rates a completed visit here ($rate); the provider's staff assess an
// order on hold ($assess) and dispatch a nurse to an assessed one ($dispatch) — their search of
// the institution's orders may miss some (see docs/HOME-NURSING.md), so the order page is theirs too.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText } from '../hospital/format.js';
import { isRefusal, type FhirResource } from '../hospital/hospital-api.js';
import { assessForm } from './assess-form.js';
import { dispatchForm } from './dispatch-form.js';
import { addressOf, itemName, itemsOf, latest, orderState, stateKey, taskKind, type Order, type Task } from './nursing-codes.js';
import { rateForm } from './rate-form.js';
import { stepsOf, timeline } from './trace-timeline.js';

export function orderPage(app: AppContext, container: HTMLElement, scope: Scope, orderId: string, who: 'resident' | 'staff'): void {
  let alive = true;
  scope.add(() => (alive = false));
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'order-page-status' }, i18n: 'nursingLoading' });
  const summary = el('div', { className: 'order-summary' });
  const steps = el('div');
  const actions = el('div', { className: 'order-actions' });
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'nursing-order-page', 'data-order': orderId } }, [
    el('h1', { i18n: 'nursingOrderTitle' }), status, summary, el('h2', { i18n: 'nursingTimeline' }), steps, actions,
  ]);
  container.replaceChildren(section);

  const load = async () => {
    delete section.dataset.loaded;
    try {
      const bundle = await app.client.json<{ entry?: { resource?: FhirResource & { meta?: { lastUpdated?: string } } }[] }>(`${app.hub.fhirBase}/ServiceRequest/${orderId}/$trace`, { accept: 'application/fhir+json' });
      const resources = (bundle.entry ?? []).map((e) => e.resource!).filter(Boolean);
      const order = latest(resources.filter((r) => r.resourceType === 'ServiceRequest')) as Order | undefined;
      if (!order) throw new Error(orderId);
      const tasks = resources.filter((r) => r.resourceType === 'Task') as Task[];
      const visitIds = [...new Set(tasks.filter((t) => taskKind(t) === 'visit').map((t) => t.id))];
      const visits = visitIds.map((id) => latest(tasks.filter((t) => t.id === id))!);
      const visit = latest(visits);
      const state = orderState(order, visit);
      const readable = await stepsOf(app, resources);
      if (!alive) return;
      section.dataset.status = state;
      summary.replaceChildren(el('dl', {}, [
        el('dt', { i18n: 'nursingStatus' }), el('dd', { i18n: stateKey(state), attrs: { 'data-testid': 'order-page-state' } }),
        el('dt', { i18n: 'nursingItems' }), el('dd', { text: itemsOf(order).map(itemName).join('、') }),
        el('dt', { i18n: 'nursingProvider' }), el('dd', { text: order.performer?.[0]?.display ?? '' }),
        el('dt', { i18n: 'nursingAddress' }), el('dd', { text: addressOf(order) }),
      ]));
      steps.replaceChildren(timeline(readable));
      actions.replaceChildren();
      if (who === 'resident') {
        const completed = visits.filter((v) => v.status === 'completed').length;
        const ratings = new Set(resources.filter((r) => r.resourceType === 'Observation').map((r) => r.id)).size;
        if (completed > ratings) actions.append(rateForm(app, orderId, () => void load()));
      } else if (order.status === 'on-hold') actions.append(assessForm(app, order, () => void load()));
      else if (order.status === 'active' && !visits.some((v) => v.status === 'accepted' || v.status === 'in-progress')) actions.append(await dispatchForm(app, order, () => void load()));
      showText(status, '');
    } catch (err) {
      if (isRefusal(err) && err.status === 404) setText(status, 'nursingOrderNotFound');
      else showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };
  void load();
}
