// Resident: my family doctor — their contracts in force and upcoming (Contract?subject=Patient/me;
// the hub limits residents to their own and their children's): the family doctor (the HPROV
// signer's PractitionerRole → Practitioner), the centre (authority), the term, the packages with
// their prices, and the district and city hospitals chosen ("1+1+1"). Without one: how to sign,
// and the online sign-up form.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, personName, showText } from '../hospital/format.js';
import { isRefusal, read, search, type FhirResource } from '../hospital/hospital-api.js';
import { ONE_PLUS_ONE_PLUS_ONE } from './family-codes.js';
import { signContractPage } from './sign-contract.js';

type Ref = { reference?: string; display?: string };
type Contract = FhirResource & {
  status?: string;
  applies?: { start?: string; end?: string };
  subject?: Ref[];
  authority?: Ref[];
  signer?: { type?: { code?: string }; party?: Ref }[];
  term?: { topicReference?: Ref; asset?: { valuedItem?: { net?: { value?: number } }[] }[] }[];
  extension?: { url: string; extension?: { url: string; valueReference?: Ref }[] }[];
};

export function myFamilyDoctorPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'mine-status' }, i18n: 'familyLoading' });
  const list = el('div', { attrs: { 'data-testid': 'mine-contracts' } });
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'my-family-doctor' } }, [el('h1', { i18n: 'familyMine' }), status, list]);
  container.replaceChildren(section);
  const names = new Map<string, Promise<string>>();
  const nameOf = (reference: string | undefined): Promise<string> => {
    if (!reference) return Promise.resolve('');
    if (!names.has(reference)) {
      names.set(reference, read<FhirResource & { name?: unknown; practitioner?: Ref }>(app, reference).then(
        // A PractitionerRole is named by its Practitioner.
        (r) => (r.resourceType === 'PractitionerRole' ? nameOf(r.practitioner?.reference) : typeof r.name === 'string' ? r.name : personName(r) ?? reference),
        () => reference,
      ));
    }
    return names.get(reference)!;
  };

  const load = async () => {
    try {
      const me = app.session.fhirUser() ?? '';
      const today = shanghaiDay();
      const { matches } = await search<Contract>(app, `Contract?subject=${encodeURIComponent(me)}&_count=100`);
      const current = matches
        .filter((c) => c.status === 'executed' && (!c.applies?.end || c.applies.end.slice(0, 10) > today))
        .sort((a, b) => (a.applies?.start ?? '').localeCompare(b.applies?.start ?? ''));
      const cards = await Promise.all(current.map((c) => card(c, today)));
      if (!alive) return;
      list.replaceChildren(...cards);
      if (current.length) showText(status, '');
      else {
        setText(status, 'familyNoContract');
        status.dataset.state = 'none';
        signContractPage(app, list, scope, 'resident');
      }
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };

  const card = async (contract: Contract, today: string): Promise<HTMLElement> => {
    const doctor = contract.signer?.find((s) => s.type?.code === 'HPROV')?.party?.reference;
    const choice = contract.extension?.find((e) => e.url === ONE_PLUS_ONE_PLUS_ONE)?.extension ?? [];
    const hospital = (part: string) => choice.find((e) => e.url === part)?.valueReference?.reference;
    const upcoming = (contract.applies?.start ?? '').slice(0, 10) > today;
    const packages = (contract.term ?? []).map((term) => {
      const price = term.asset?.[0]?.valuedItem?.[0]?.net?.value;
      return el('li', { attrs: { 'data-testid': 'mine-package' } }, [
        el('span', { text: term.topicReference?.display ?? term.topicReference?.reference ?? '' }), ' ',
        price ? el('span', { text: `¥${price}` }) : el('span', { i18n: 'familyFree' }),
      ]);
    });
    const item = (key: MessageKey, testid: string, value: Node | string) => [el('dt', { i18n: key }), el('dd', { attrs: { 'data-testid': testid } }, [value])];
    return el('article', { className: 'contract', attrs: { 'data-testid': 'mine-contract', 'data-contract': contract.id, 'data-state': upcoming ? 'upcoming' : 'in-force' } }, [
      el('h2', { i18n: upcoming ? 'familyUpcoming' : 'familyInForce' }),
      el('dl', {}, [
        ...(item('familyDoctorRole', 'mine-doctor', await nameOf(doctor))),
        ...(item('familyCentre', 'mine-centre', await nameOf(contract.authority?.[0]?.reference))),
        ...(item('familyTerm', 'mine-term', `${contract.applies?.start ?? ''} – ${contract.applies?.end ?? ''}`)),
        ...(item('familyPackages', 'mine-packages', el('ul', {}, packages))),
        ...(item('familyDistrictHospital', 'mine-district', await nameOf(hospital('districtHospital')))),
        ...(item('familyCityHospital', 'mine-city', await nameOf(hospital('cityHospital')))),
      ]),
    ]);
  };
  void load();
}

/** Today in Shanghai (UTC+8, no daylight saving): the hub writes contract terms in the district's dates, whatever this browser's zone. */
function shanghaiDay(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}
