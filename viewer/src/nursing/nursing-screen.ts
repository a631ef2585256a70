// The home-nursing pages (#/nursing/…), chosen by the signed-in role: a resident orders home
// nursing and follows their orders (NU-02/04/05, NU-07); a nurse works their visits — check in
// and out with the position, the one-tap alarm (NU-08); the provider's staff (doctors and nurses)
// assess and dispatch (NU-03/06) and keep the duty desk. Anyone else is told the pages are not theirs.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { onLanguageChange } from '../i18n/i18n.js';
import type { NursingPage } from '../router.js';
import { el, translateTree } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { nursingRole } from '../hospital/role.js';
import '../hospital/hospital.css';
import './nursing.css';
import { dutyDeskPage } from './duty-desk.js';
import { myOrdersPage } from './my-orders.js';
import { myVisitsPage } from './my-visits.js';
import { orderFormPage } from './order-form.js';
import { orderPage } from './order-page.js';
import { staffOrdersPage } from './staff-orders.js';

export function nursingScreen(app: AppContext, main: HTMLElement, page: NursingPage, scope: Scope): void {
  const role = nursingRole(app.session.fhirUser(), app.session.accountRole());
  const content = el('div', { className: 'hospital-content' });
  const tab = (href: string, key: MessageKey, current: boolean, id: string) =>
    el('a', { i18n: key, attrs: { href, 'aria-current': current ? 'page' : undefined, 'data-testid': `nursing-tab-${id}` } });
  const residentPage = page.name === 'home' ? 'orders' : page.name;
  const nav =
    role === 'resident'
      ? [tab('#/nursing/orders', 'nursingMyOrders', residentPage === 'orders' || residentPage === 'order-detail', 'orders'), tab('#/nursing/order', 'nursingOrder', residentPage === 'order', 'order')]
      : role
        ? [
            tab('#/nursing', 'nursingHandle', page.name === 'home' || page.name === 'order-detail', 'handle'),
            role === 'nurse' ? tab('#/nursing/visits', 'nursingMyVisits', page.name === 'visits', 'visits') : null,
            tab('#/nursing/desk', 'nursingDesk', page.name === 'desk', 'desk'),
          ].filter((a): a is HTMLAnchorElement => a !== null)
        : [];
  main.replaceChildren(el('div', { className: 'hospital nursing', attrs: { 'data-testid': 'nursing', 'data-role': role ?? 'none' } }, [el('nav', { className: 'hospital-tabs' }, nav), content]));
  scope.add(onLanguageChange(() => translateTree(main)));
  if (!role) return void content.append(el('p', { className: 'status', i18n: 'nursingNoRole' }));
  if (page.name === 'order-detail') return orderPage(app, content, scope, page.orderId, role === 'resident' ? 'resident' : 'staff');
  if (role === 'resident') {
    if (residentPage === 'order') return orderFormPage(app, content, scope);
    return myOrdersPage(app, content, scope);
  }
  if (page.name === 'visits' && role === 'nurse') return myVisitsPage(app, content, scope);
  if (page.name === 'desk') return dutyDeskPage(app, content, scope);
  staffOrdersPage(app, content, scope);
}
