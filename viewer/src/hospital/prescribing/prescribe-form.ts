// Doctor, in an online visit: prescribe (IH-05, IH-06). The doctor picks or types the drug (with
// its ATC code), the dose and the quantity; "sign and send for review" then
//   1. stores the draft MedicationRequest (a plain FHIR create: status draft, the doctor as
//      requester, the visit's patient and Encounter),
//   2. signs exactly what was stored: a compact JWS, made with this device's key (device-key.ts),
//      over {sub, target: the draft's version, sha256: its content hash, iat} — the hash computed
//      with the hub's own canonical form (server/src/fhir/canonical-json.ts), so both sides hash
//      the same bytes,
//   3. posts it to MedicationRequest/{id}/$sign; the hub verifies it, puts the prescription on
//      hold and queues the pharmacist's review.
// Nothing is signed without the doctor's click. A refusal (a special-control drug, IH-07, say)
// is shown as the hub words it, and a draft that could not be signed is withdrawn.
import { canonicalContent } from '../../../../server/src/fhir/canonical-json.js';
import type { AppContext } from '../../app-context.js';
import type { MessageKey } from '../../i18n/messages.js';
import { el, setText } from '../../ui/dom.js';
import type { Scope } from '../../ui/scope.js';
import { failureText, showText } from '../format.js';
import { isRefusal, operation, search } from '../hospital-api.js';
import { doseOf, drugOf, prescriptionState, prescriptionStateKey, type MedicationRequest } from '../prescription-format.js';
import { sha256Hex, signCompactJws } from './compact-jws.js';
import { deviceKey, forgetDeviceKey } from './device-key.js';
import { ATC_SYSTEM, COMMON_DRUGS } from './formulary.js';

const FHIR_JSON = 'application/fhir+json';

export interface VisitForPrescribing {
  encounterId: string;
  patient: string;
}

export function prescribeForm(app: AppContext, visit: VisitForPrescribing, scope: Scope): HTMLElement {
  let alive = true;
  scope.add(() => (alive = false));
  const me = app.session.fhirUser() ?? '';
  const pick = el('select', { attrs: { 'data-testid': 'rx-common' } }, [
    el('option', { i18n: 'rxPickCommon', attrs: { value: '' } }),
    ...COMMON_DRUGS.map((drug, i) => el('option', { text: `${drug.name} (${drug.atc})`, attrs: { value: String(i) } })),
  ]);
  const name = el('input', { attrs: { type: 'text', maxlength: 200, required: true, 'data-testid': 'rx-drug' } });
  const atc = el('input', { attrs: { type: 'text', maxlength: 7, required: true, pattern: '[A-Za-z][0-9]{2}[A-Za-z]{0,2}[0-9]{0,2}', 'data-testid': 'rx-atc' } });
  const dose = el('input', { attrs: { type: 'text', maxlength: 500, required: true, 'data-testid': 'rx-dose' } });
  const quantity = el('input', { attrs: { type: 'number', min: 1, max: 1000, step: 1, required: true, 'data-testid': 'rx-quantity' } });
  const unit = el('input', { attrs: { type: 'text', maxlength: 10, value: '片', 'data-testid': 'rx-unit' } });
  const submit = el('button', { className: 'primary', i18n: 'rxSign', attrs: { type: 'submit', 'data-testid': 'rx-sign' } });
  const outcome = el('p', { attrs: { role: 'status', 'data-testid': 'rx-outcome' } });
  const rows = el('tbody');
  const field = (key: MessageKey, control: HTMLElement) => el('label', {}, [el('span', { i18n: key }), control]);
  const form = el('form', { className: 'prescribe', attrs: { 'data-testid': 'prescribe-form' } }, [
    el('h2', { i18n: 'rxTitle' }),
    field('rxCommon', pick),
    field('hospitalDrug', name),
    field('rxAtc', atc),
    field('hospitalDose', dose),
    el('div', { className: 'quantity' }, [field('rxQuantity', quantity), field('rxUnit', unit)]),
    el('p', { className: 'hint', i18n: 'rxSignHint' }),
    submit,
    outcome,
    el('table', { className: 'prescriptions' }, [
      el('thead', {}, [el('tr', {}, [el('th', { i18n: 'hospitalDrug' }), el('th', { i18n: 'hospitalDose' }), el('th', { i18n: 'hospitalStatus' })])]),
      rows,
    ]),
  ]);

  pick.addEventListener('change', () => {
    const drug = COMMON_DRUGS[Number(pick.value)];
    if (!pick.value || !drug) return;
    name.value = drug.name;
    atc.value = drug.atc;
    dose.value = drug.dose;
    quantity.value = String(drug.quantity);
    unit.value = drug.unit;
  });

  /** The visit's prescriptions and their states, newest first. */
  const refresh = async () => {
    const query = new URLSearchParams({ encounter: `Encounter/${visit.encounterId}`, _sort: '-_lastUpdated', _count: '50' });
    const { matches } = await search<MedicationRequest>(app, `MedicationRequest?${query}`);
    if (!alive) return;
    rows.replaceChildren(...matches.map((request) => {
      const state = prescriptionState(request);
      return el('tr', { attrs: { 'data-testid': 'rx-row', 'data-prescription': request.id, 'data-state': state } }, [
        el('td', { text: drugOf(request) }),
        el('td', { text: doseOf(request) }),
        el('td', { i18n: prescriptionStateKey(state) }),
      ]);
    }));
    form.dataset.loaded = 'true';
  };

  const draft = (): MedicationRequest => ({
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: { text: name.value.trim(), coding: [{ system: ATC_SYSTEM, code: atc.value.trim().toUpperCase(), display: name.value.trim() }] },
    subject: { reference: visit.patient },
    encounter: { reference: `Encounter/${visit.encounterId}` },
    requester: { reference: me },
    authoredOn: new Date().toISOString(),
    dosageInstruction: [{ text: dose.value.trim() }],
    dispenseRequest: { quantity: { value: Number(quantity.value), unit: unit.value.trim() || '片' } },
  });

  const signAndSend = async (stored: MedicationRequest, retried = false): Promise<void> => {
    const key = await deviceKey(app, me);
    const payload = {
      sub: me,
      target: `MedicationRequest/${stored.id}/_history/${(stored.meta as { versionId?: string } | undefined)?.versionId}`,
      sha256: await sha256Hex(canonicalContent(stored)),
      iat: Math.floor(Date.now() / 1000),
    };
    const signature = await signCompactJws(key.privateKey, key.kid, payload);
    try {
      await operation(app, `MedicationRequest/${encodeURIComponent(stored.id!)}/$sign`, [{ name: 'signature', valueString: signature }]);
    } catch (err) {
      // This device's key was retired (the doctor registered another device since): make a new one, once.
      if (!retried && isRefusal(err) && err.status === 403 && /key/i.test(err.message)) {
        await forgetDeviceKey(app, me);
        return signAndSend(stored, true);
      }
      throw err;
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    outcome.className = '';
    setText(outcome, 'rxSigning');
    let stored: MedicationRequest | undefined;
    app.client
      .request(`${app.hub.fhirBase}/MedicationRequest`, { method: 'POST', accept: FHIR_JSON, contentType: FHIR_JSON, json: draft() })
      .then(async (res) => {
        stored = (await res.json()) as MedicationRequest;
        await signAndSend(stored);
        setText(outcome, 'rxSent');
        form.dataset.outcome = 'sent';
        pick.value = '';
        for (const control of [name, atc, dose, quantity]) control.value = '';
      })
      .catch(async (err: unknown) => {
        // A draft the hub would not sign is withdrawn: nothing half-done stays in the record.
        if (stored?.id) await app.client.request(`${app.hub.fhirBase}/MedicationRequest/${encodeURIComponent(stored.id)}`, { method: 'DELETE', accept: FHIR_JSON }).catch(() => undefined);
        outcome.className = 'error';
        form.dataset.outcome = 'refused';
        showText(outcome, failureText(err, isRefusal(err)));
      })
      .finally(() => {
        submit.disabled = false;
        void refresh().catch(() => undefined);
      });
  });
  void refresh().catch((err: unknown) => showText(outcome, failureText(err, isRefusal(err))));
  return form;
}

