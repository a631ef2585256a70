// Signing a family-doctor contract (POST Patient/{id}/$sign-contract, FD-02/FD-05). The doctor's
// "Sign" tab records a contract the resident signed on paper at the centre: find the resident by
// ID number, choose the doctor's role, one basic package and any personalised ones (with their
// prices), one district and one city hospital ("1+1+1"), and attach the signed form, which the
// hub requires of a doctor. A resident without a contract signs for themself online with the same
// form, choosing a family doctor at a community health centre, without the paper form. A refusal
// is shown as the hub words it (e.g. FD-02 "one family doctor at a time … until …").
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, personName, showText } from '../hospital/format.js';
import { isRefusal, operation, read, search, type FhirResource, type Parameter } from '../hospital/hospital-api.js';
import { FD_SYSTEM, INSTITUTION_CATEGORY, priceOf, RESIDENT_ID } from './family-codes.js';

type Coded = { coding?: { system?: string; code?: string }[] };
type PlanDefinition = FhirResource & { title?: string; name?: string; type?: Coded; extension?: { url: string; valueMoney?: { value?: number } }[] };
type PractitionerRole = FhirResource & { practitioner?: { reference?: string }; organization?: { reference?: string }; active?: boolean };
type Named = FhirResource & { name?: unknown };

export function signContractPage(app: AppContext, container: HTMLElement, scope: Scope, who: 'doctor' | 'resident'): HTMLElement {
  let alive = true;
  scope.add(() => (alive = false));
  const me = app.session.fhirUser() ?? '';
  let patient = who === 'resident' ? me : '';

  const idNumber = el('input', { attrs: { type: 'text', maxlength: 18, pattern: '[0-9]{17}[0-9Xx]', 'data-testid': 'sign-id-number' } });
  const find = el('button', { i18n: 'familyFind', attrs: { type: 'button', 'data-testid': 'sign-find' } });
  const found = el('span', { attrs: { 'data-testid': 'sign-patient' } });
  const role = el('select', { attrs: { 'data-testid': 'sign-role' } });
  const basics = el('fieldset', { attrs: { 'data-testid': 'sign-basic' } }, [el('legend', { i18n: 'familyBasicPackage' })]);
  const personalised = el('fieldset', { attrs: { 'data-testid': 'sign-personalised' } }, [el('legend', { i18n: 'familyPersonalised' })]);
  const district = el('select', { attrs: { 'data-testid': 'sign-district' } });
  const city = el('select', { attrs: { 'data-testid': 'sign-city' } });
  const signedForm = el('input', { attrs: { type: 'file', accept: 'application/pdf,image/*', 'data-testid': 'sign-form-file' } });
  const submit = el('button', { className: 'primary', i18n: 'familySubmit', attrs: { type: 'submit', 'data-testid': 'sign-submit' } });
  const outcome = el('p', { className: 'outcome wide', attrs: { role: 'status', 'data-testid': 'sign-outcome' } });
  const field = (key: MessageKey, control: HTMLElement, className = '') => el('label', { className }, [el('span', { i18n: key }), control]);
  const form = el('form', { className: 'sign', attrs: { 'data-testid': 'sign-form' } }, [
    who === 'doctor' ? el('div', { className: 'filters wide' }, [field('familyIdNumber', idNumber), find, found]) : null,
    field('familyDoctorRole', role),
    el('span'),
    basics,
    personalised,
    field('familyDistrictHospital', district),
    field('familyCityHospital', city),
    who === 'doctor' ? field('familySignedForm', signedForm, 'wide') : null,
    el('div', { className: 'wide' }, [submit]),
    outcome,
  ]);
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'family-sign' } }, [el('h1', { i18n: who === 'doctor' ? 'familySign' : 'familySignOnline' }), form]);
  container.append(section);

  const fail = (err: unknown, state = 'refused') => {
    outcome.className = 'outcome wide error';
    form.dataset.outcome = state;
    showText(outcome, failureText(err, isRefusal(err)));
  };
  const invalid = (key: MessageKey) => {
    outcome.className = 'outcome wide error';
    form.dataset.outcome = 'invalid';
    setText(outcome, key);
  };
  const names = new Map<string, Promise<string>>();
  const nameOf = (reference: string | undefined) => {
    if (!reference) return Promise.resolve('');
    if (!names.has(reference)) names.set(reference, read<Named>(app, reference).then((r) => (typeof r.name === 'string' ? r.name : personName(r) ?? reference), () => reference));
    return names.get(reference)!;
  };
  const choose = () => el('option', { i18n: 'familyChoose', attrs: { value: '' } });

  const load = async () => {
    try {
      // The doctor signs as one of their own roles; a resident chooses a doctor at a community health centre.
      const roles = who === 'doctor'
        ? (await search<PractitionerRole>(app, `PractitionerRole?practitioner=${encodeURIComponent(me)}&_count=100`)).matches
        : await centreRoles();
      const roleOptions = await Promise.all(roles.filter((r) => r.active !== false).map(async (r) => {
        const label = who === 'doctor' ? await nameOf(r.organization?.reference) : `${await nameOf(r.practitioner?.reference)} · ${await nameOf(r.organization?.reference)}`;
        return el('option', { text: label, attrs: { value: `PractitionerRole/${r.id}` } });
      }));
      role.replaceChildren(...(who === 'resident' ? [choose()] : []), ...roleOptions);
      const packages = (await search<PlanDefinition>(app, 'PlanDefinition?status=active&_count=100')).matches;
      const kind = (p: PlanDefinition) => p.type?.coding?.find((c) => c.system === FD_SYSTEM)?.code;
      const packageChoice = (p: PlanDefinition, type: 'radio' | 'checkbox') => {
        const price = priceOf(p);
        const input = el('input', { attrs: { type, name: type === 'radio' ? 'basic' : undefined, value: `PlanDefinition/${p.id}`, 'data-testid': type === 'radio' ? 'sign-basic-package' : 'sign-personalised-package' } });
        return el('label', {}, [input, el('span', { text: p.title ?? p.name ?? p.id ?? '' }), price ? el('span', { text: `¥${price}` }) : el('span', { i18n: 'familyFree' })]);
      };
      const basicPackages = packages.filter((p) => kind(p) === 'basic-package');
      basics.append(...basicPackages.map((p) => packageChoice(p, 'radio')));
      personalised.append(...packages.filter((p) => kind(p) === 'personalised-package').map((p) => packageChoice(p, 'checkbox')));
      if (basicPackages.length === 1) basics.querySelector('input')!.checked = true;
      for (const [select, category] of [[district, 'district-hospital'], [city, 'city-hospital']] as const) {
        const hospitals = (await search<Named>(app, `Organization?type=${encodeURIComponent(`${INSTITUTION_CATEGORY}|${category}`)}&_count=100`)).matches;
        select.replaceChildren(choose(), ...hospitals.map((h) => el('option', { text: typeof h.name === 'string' ? h.name : h.id ?? '', attrs: { value: `Organization/${h.id}` } })));
      }
      if (!alive) return;
    } catch (err) {
      fail(err, 'failed');
    }
    section.dataset.loaded = 'true';
  };

  const centreRoles = async () => {
    const centres = (await search<Named>(app, `Organization?type=${encodeURIComponent(`${INSTITUTION_CATEGORY}|community-health-centre`)}&_count=100`)).matches;
    if (!centres.length) return [];
    const orgs = centres.map((c) => `Organization/${c.id}`).join(',');
    return (await search<PractitionerRole>(app, `PractitionerRole?organization=${encodeURIComponent(orgs)}&_count=100`)).matches;
  };

  find.addEventListener('click', () => {
    patient = '';
    found.className = '';
    showText(found, '');
    delete form.dataset.patient;
    const value = idNumber.value.trim().toUpperCase();
    if (!value) return;
    // The hub's in-person lookup: the exact ID number opens the record's name to the centre's staff only.
    app.client
      .json<{ parameter?: { name: string; part?: { name: string; valueReference?: { reference?: string; display?: string } }[] }[] }>(
        `${app.hub.fhirBase}/Patient/$find-for-contract?identifier=${encodeURIComponent(`${RESIDENT_ID}|${value}`)}`,
        { accept: 'application/fhir+json' },
      )
      .then((answer) => {
        const match = answer.parameter?.find((p) => p.name === 'patient')?.part?.find((p) => p.name === 'patient')?.valueReference;
        if (!match?.reference) {
          found.className = 'error';
          return setText(found, 'familyNotFound');
        }
        patient = match.reference;
        form.dataset.patient = patient;
        showText(found, match.display || patient);
      })
      .catch((err: unknown) => {
        found.className = 'error';
        showText(found, failureText(err, isRefusal(err)));
      });
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
  });
  const send = async () => {
    const basic = basics.querySelector<HTMLInputElement>('input:checked')?.value;
    if (!patient) return invalid('familyPatientMissing');
    if (!role.value || !basic || !district.value || !city.value) return invalid('familyChoicesMissing');
    const file = signedForm.files?.[0];
    if (who === 'doctor' && !file) return invalid('familyFormMissing');
    const parameter: Parameter[] = [
      { name: 'familyDoctor', valueReference: { reference: role.value } },
      { name: 'package', valueReference: { reference: basic } },
      ...[...personalised.querySelectorAll<HTMLInputElement>('input:checked')].map((p) => ({ name: 'package', valueReference: { reference: p.value } })),
      { name: 'districtHospital', valueReference: { reference: district.value } },
      { name: 'cityHospital', valueReference: { reference: city.value } },
    ];
    submit.disabled = true;
    delete form.dataset.outcome;
    showText(outcome, '');
    try {
      if (file) parameter.push({ name: 'signedForm', valueAttachment: { contentType: file.type || 'application/octet-stream', data: await base64Of(file), title: file.name } });
      const contract = await operation<{ id?: string; applies?: { start?: string; end?: string } }>(app, `${patient}/$sign-contract`, parameter);
      outcome.className = 'outcome wide ok';
      form.dataset.outcome = 'signed';
      form.dataset.contract = contract.id ?? '';
      setText(outcome, 'familySigned', { start: contract.applies?.start ?? '', end: contract.applies?.end ?? '' });
    } catch (err) {
      fail(err);
    }
    submit.disabled = false;
  };
  void load();
  return section;
}

/** A file's bytes as base64 (an Attachment's data). */
function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(file);
  });
}
