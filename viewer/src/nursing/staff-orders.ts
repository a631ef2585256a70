// Provider staff (doctors and nurses): the orders to handle at my institutions — my
// PractitionerRoles' organizations, then ServiceRequest?performer=Organization/<org>&status=on-hold,active
// — each opening the order page, where an order on hold is assessed and an assessed one dispatched.
// An order can also be opened by its number (the hub's search shows staff only the orders of
// patients they may see; see docs/HOME-NURSING.md "Web pages").
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText, when } from '../hospital/format.js';
import { isRefusal, search, type FhirResource } from '../hospital/hospital-api.js';
import { itemName, itemsOf, ORDER_CATEGORY, type Order } from './nursing-codes.js';

type Role = FhirResource & { organization?: { reference?: string } };

/** My institutions: the organizations of my active PractitionerRoles, with their names. */
export async function myOrganizations(app: AppContext): Promise<{ reference: string; name: string }[]> {
  const me = app.session.fhirUser() ?? '';
  const { matches, included } = await search<Role>(app, `PractitionerRole?practitioner=${encodeURIComponent(me)}&active=true&_include=PractitionerRole:organization`);
  const refs = [...new Set(matches.map((r) => r.organization?.reference).filter((r): r is string => !!r))];
  return refs.map((reference) => ({ reference, name: ((included.get(reference) as { name?: string } | undefined)?.name) ?? reference }));
}

export function staffOrdersPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'handle-status' }, i18n: 'nursingLoading' });
  const rows = el('tbody');
  const number = el('input', { attrs: { type: 'text', maxlength: 64, pattern: '[A-Za-z0-9.\\-]{1,64}', 'data-testid': 'handle-order-id' } });
  const open = el('form', { className: 'filters' }, [el('label', {}, [el('span', { i18n: 'nursingOrderNumber' }), number]), el('button', { i18n: 'nursingOpen', attrs: { type: 'submit', 'data-testid': 'handle-open' } })]);
  open.addEventListener('submit', (event) => {
    event.preventDefault();
    if (/^[A-Za-z0-9.-]{1,64}$/.test(number.value.trim())) app.navigate(`#/nursing/order/${number.value.trim()}`);
  });
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'nursing-handle' } }, [
    el('h1', { i18n: 'nursingHandle' }), open, status,
    el('table', {}, [
      el('thead', {}, [el('tr', {}, [el('th', { i18n: 'nursingPatient' }), el('th', { i18n: 'nursingItems' }), el('th', { i18n: 'nursingProvider' }), el('th', { i18n: 'nursingOrdered_at' }), el('th', { i18n: 'nursingStatus' }), el('th')])]),
      rows,
    ]),
  ]);
  container.replaceChildren(section);

  const load = async () => {
    try {
      const orgs = await myOrganizations(app);
      const lists = await Promise.all(orgs.map(async (org) => ({
        org,
        orders: (await search<Order>(app, `ServiceRequest?performer=${encodeURIComponent(org.reference)}&category=${encodeURIComponent(ORDER_CATEGORY)}&status=on-hold,active&_sort=-_lastUpdated&_count=100`)).matches,
      })));
      if (!alive) return;
      rows.replaceChildren(...lists.flatMap(({ org, orders }) => orders.map((order) => el('tr', { attrs: { 'data-testid': 'handle-row', 'data-order': order.id, 'data-status': order.status } }, [
        el('td', { text: order.subject?.display ?? order.subject?.reference ?? '' }),
        el('td', { text: itemsOf(order).map(itemName).join('、') }),
        el('td', { text: org.name }),
        el('td', { text: when(order.authoredOn) }),
        el('td', { i18n: order.status === 'on-hold' ? 'nursingState_onhold' : 'nursingState_assessed' }),
        el('td', {}, [el('a', { i18n: order.status === 'on-hold' ? 'nursingAssessTitle' : 'nursingDispatchTitle', attrs: { href: `#/nursing/order/${order.id}`, 'data-testid': 'handle-open-order' } })]),
      ]))));
      if (!orgs.length) setText(status, 'nursingNoInstitution');
      else if (!rows.children.length) setText(status, 'nursingNothingToHandle');
      else showText(status, '');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };
  void load();
}
