// Resident: my home-nursing orders (ServiceRequest?category=…|home-nursing, newest first; the hub
// limits residents to their own and their children's), each with its state in words — waiting for
// the assessment, assessed, nurse dispatched, nurse arrived (with the check-in time), completed,
// or declined (with the reason) — read from the order and its latest visit Task.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText, when } from '../hospital/format.js';
import { isRefusal, search } from '../hospital/hospital-api.js';
import { eventTime, HN, itemName, itemsOf, latest, ORDER_CATEGORY, orderState, stateKey, taskKind, type Order, type Task } from './nursing-codes.js';

export function myOrdersPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'orders-status' }, i18n: 'nursingLoading' });
  const rows = el('tbody');
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'nursing-orders' } }, [
    el('h1', { i18n: 'nursingMyOrders' }),
    el('p', {}, [el('a', { className: 'button primary', i18n: 'nursingOrder', attrs: { href: '#/nursing/order', 'data-testid': 'orders-new' } })]),
    status,
    el('table', {}, [
      el('thead', {}, [el('tr', {}, [el('th', { i18n: 'nursingOrdered_at' }), el('th', { i18n: 'nursingItems' }), el('th', { i18n: 'nursingProvider' }), el('th', { i18n: 'nursingStatus' }), el('th')])]),
      rows,
    ]),
  ]);
  container.replaceChildren(section);

  const load = async () => {
    try {
      const { matches: orders } = await search<Order>(app, `ServiceRequest?category=${encodeURIComponent(ORDER_CATEGORY)}&_sort=-_lastUpdated&_count=50`);
      const visits = orders.length
        ? (await search<Task>(app, `Task?based-on=${orders.map((o) => `ServiceRequest/${o.id}`).join(',')}&code=${encodeURIComponent(`${HN}|visit`)}&_count=200`)).matches
        : [];
      if (!alive) return;
      rows.replaceChildren(...orders.map((order) => row(order, latest(visits.filter((v) => taskKind(v) === 'visit' && v.basedOn?.some((b) => b.reference === `ServiceRequest/${order.id}`))))));
      if (orders.length) showText(status, '');
      else setText(status, 'nursingNoOrders');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };

  const row = (order: Order, visit: Task | undefined): HTMLElement => {
    const state = orderState(order, visit);
    const detail =
      state === 'arrived' && visit ? when(eventTime(visit, 'check-in'))
      : state === 'revoked' ? order.note?.[order.note.length - 1]?.text ?? ''
      : state === 'dispatched' && visit ? when(visit.executionPeriod?.start)
      : '';
    return el('tr', { attrs: { 'data-testid': 'order-row', 'data-order': order.id, 'data-status': state } }, [
      el('td', { text: when(order.authoredOn ?? order.meta?.lastUpdated) }),
      el('td', { text: itemsOf(order).map(itemName).join('、') }),
      el('td', { text: order.performer?.[0]?.display ?? order.performer?.[0]?.reference ?? '' }),
      el('td', { className: 'order-state' }, [el('span', { i18n: stateKey(state), attrs: { 'data-testid': 'order-state' } }), detail ? el('span', { className: 'reason', text: ` ${detail}` }) : null]),
      el('td', {}, [el('a', { i18n: 'nursingFollowOrder', attrs: { href: `#/nursing/order/${order.id}`, 'data-testid': 'order-open' } })]),
    ]);
  };
  void load();
}
