// Resident: my prescriptions — the internet hospital's prescriptions the hub lets them see (their
// own and their young children's: the hub limits the search to them), newest first, with the
// state: awaiting review, approved, rejected with the pharmacist's reason, dispensed, delivery.
// Read-only.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, personName, showText, when } from './format.js';
import { isRefusal, read, search } from './hospital-api.js';
import { doseOf, drugOf, PRESCRIPTION_TAG, prescriptionState, prescriptionStateKey, type MedicationDispense, type MedicationRequest } from './prescription-format.js';

export function myPrescriptionsPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'prescriptions-status' }, i18n: 'hospitalLoading' });
  const rows = el('tbody');
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'my-prescriptions' } }, [
    el('h1', { i18n: 'hospitalMyPrescriptions' }),
    status,
    el('table', { className: 'prescriptions' }, [
      el('thead', {}, [el('tr', {}, [
        el('th', { i18n: 'hospitalTime' }), el('th', { i18n: 'hospitalPatient' }), el('th', { i18n: 'hospitalDrug' }), el('th', { i18n: 'hospitalDose' }),
        el('th', { i18n: 'hospitalDoctor' }), el('th', { i18n: 'hospitalStatus' }),
      ])]),
      rows,
    ]),
  ]);
  container.replaceChildren(section);
  const names = new Map<string, Promise<string>>();
  const name = (reference: string | undefined) => {
    if (!reference) return Promise.resolve('');
    if (!names.has(reference)) names.set(reference, read(app, reference).then((r) => personName(r) ?? reference, () => reference));
    return names.get(reference)!;
  };

  const load = async () => {
    try {
      const query = new URLSearchParams({ _tag: PRESCRIPTION_TAG, _sort: '-_lastUpdated', _count: '100' });
      const { matches } = await search<MedicationRequest>(app, `MedicationRequest?${query}`);
      const built: HTMLElement[] = [];
      for (const request of matches) built.push(await row(request));
      if (!alive) return;
      rows.replaceChildren(...built);
      if (matches.length) showText(status, '');
      else setText(status, 'hospitalNoPrescriptions');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };

  const row = async (request: MedicationRequest): Promise<HTMLElement> => {
    // The latest dispense tells the delivery state of an approved prescription.
    const dispense = request.status === 'active' || request.status === 'completed'
      ? (await search<MedicationDispense>(app, `MedicationDispense?prescription=MedicationRequest/${encodeURIComponent(request.id!)}&_sort=-_lastUpdated&_count=1`).catch(() => undefined))?.matches[0]
      : undefined;
    const state = prescriptionState(request, dispense);
    const stateCell = el('td', { attrs: { 'data-testid': 'prescription-state', 'data-state': state } }, [el('span', { i18n: prescriptionStateKey(state) })]);
    if (state === 'rejected' && request.statusReason?.text) {
      stateCell.append(el('div', { className: 'reason', i18n: 'hospitalRejectedBecause', i18nValues: { reason: request.statusReason.text }, attrs: { 'data-testid': 'prescription-reason' } }));
    }
    return el('tr', { attrs: { 'data-testid': 'prescription-row', 'data-prescription': request.id, 'data-status': request.status } }, [
      el('td', { text: when((request.meta as { lastUpdated?: string } | undefined)?.lastUpdated) || request.authoredOn || '' }),
      el('td', { text: await name(request.subject?.reference) }),
      el('td', { text: drugOf(request) }),
      el('td', { text: doseOf(request) }),
      el('td', { text: await name(request.requester?.reference) }),
      stateCell,
    ]);
  };
  void load();
}
