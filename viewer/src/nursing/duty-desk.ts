// Provider staff: the duty desk (#/nursing/desk, NU-08). Joins the live channel of my institution
// (the first, or the one chosen) and shows each nurse's alarm at once at the top, in red: patient,
// nurse, position, note, time; each resolved with a note (POST Flag/{id}/$resolve-alarm). Alarms
// still active when the page opens are listed from the store (Flag?_tag=…|order-chain, active alarms kept).
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, personName, showText, when } from '../hospital/format.js';
import { isRefusal, operation, read, search, type FhirResource } from '../hospital/hospital-api.js';
import { openDeskChannel, type AlarmFrame } from './desk-channel.js';
import { HN, NURSE_POSITION } from './nursing-codes.js';
import { myOrganizations } from './staff-orders.js';

type Flag = FhirResource & {
  status?: string; subject?: { reference?: string }; author?: { reference?: string }; code?: { text?: string; coding?: { system?: string; code?: string }[] };
  period?: { start?: string }; extension?: { url: string; extension?: { url: string; valueDecimal?: number }[] }[];
};

export function dutyDeskPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  let leave: (() => void) | undefined;
  scope.add(() => {
    alive = false;
    leave?.();
  });
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'desk-status' }, i18n: 'nursingLoading' });
  const live = el('span', { className: 'desk-live', attrs: { 'data-testid': 'desk-live', 'data-state': 'connecting' }, i18n: 'nursingDeskConnecting' });
  const organization = el('select', { attrs: { 'data-testid': 'desk-organization' } });
  const alarms = el('div', { className: 'desk-alarms', attrs: { 'data-testid': 'desk-alarms' } });
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'nursing-desk' } }, [
    el('h1', { i18n: 'nursingDesk' }), el('div', { className: 'filters' }, [el('label', {}, [el('span', { i18n: 'nursingInstitution' }), organization]), live]), status, alarms,
  ]);
  container.replaceChildren(section);

  const names = new Map<string, Promise<string>>();
  const nameOf = (reference: string | undefined): Promise<string> => {
    if (!reference) return Promise.resolve('');
    if (!names.has(reference)) names.set(reference, read(app, reference).then((r) => personName(r) ?? reference, () => reference));
    return names.get(reference)!;
  };
  const card = async (flag: Flag, extra: Partial<AlarmFrame> = {}): Promise<HTMLElement> => {
    const where = extra.position ?? positionOf(flag);
    const resolveNote = el('input', { attrs: { type: 'text', maxlength: 1000, 'data-testid': 'desk-resolve-note' } });
    const resolve = el('button', { className: 'primary', i18n: 'nursingResolve', attrs: { type: 'submit', 'data-testid': 'desk-resolve' } });
    const outcome = el('span', { attrs: { role: 'status', 'data-testid': 'desk-resolve-outcome' } });
    const form = el('form', { className: 'resolve' }, [el('label', {}, [el('span', { i18n: 'nursingResolveNote' }), resolveNote]), resolve, outcome]);
    const item = (key: MessageKey, testid: string, text: string) => [el('dt', { i18n: key }), el('dd', { text, attrs: { 'data-testid': testid } })];
    const article = el('article', { className: 'desk-alarm', attrs: { 'data-testid': 'desk-alarm', 'data-flag': flag.id, 'data-status': 'active' } }, [
      el('strong', { className: 'alarm-title', i18n: 'nursingAlarmTitle' }),
      el('dl', {}, [
        ...item('nursingPatient', 'desk-patient', await nameOf(extra.patient ?? flag.subject?.reference)),
        ...item('nursingNurse', 'desk-nurse', await nameOf(extra.nurse ?? flag.author?.reference)),
        ...item('nursingPosition', 'desk-position', where ? `${where.latitude}, ${where.longitude}` : '—'),
        ...item('nursingNote', 'desk-note', extra.note || flag.code?.text || '—'),
        ...item('nursingTime', 'desk-time', when(flag.period?.start ?? (flag.meta as { lastUpdated?: string } | undefined)?.lastUpdated)),
      ]),
      form,
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!resolveNote.value.trim()) {
        outcome.className = 'error';
        return setText(outcome, 'nursingResolveMissing');
      }
      resolve.disabled = true;
      operation(app, `Flag/${flag.id}/$resolve-alarm`, [{ name: 'note', valueString: resolveNote.value.trim() }])
        .then(() => resolved(`Flag/${flag.id}`))
        .catch((err: unknown) => {
          outcome.className = 'error';
          showText(outcome, failureText(err, isRefusal(err)));
          resolve.disabled = false;
        });
    });
    return article;
  };
  const resolved = (flag: string) => {
    const article = alarms.querySelector<HTMLElement>(`[data-flag="${CSS.escape(flag.replace(/^Flag\//, ''))}"]`);
    if (!article || article.dataset.status === 'resolved') return;
    article.dataset.status = 'resolved';
    article.querySelector('form')?.replaceChildren(el('span', { className: 'done', i18n: 'nursingResolved', attrs: { 'data-testid': 'desk-resolved' } }));
  };
  const show = async (flag: Flag, extra?: Partial<AlarmFrame>) => {
    if (alarms.querySelector(`[data-flag="${CSS.escape(flag.id ?? '')}"]`)) return;
    const article = await card(flag, extra);
    if (alive && !alarms.querySelector(`[data-flag="${CSS.escape(flag.id ?? '')}"]`)) alarms.prepend(article);
  };

  const join = (org: string) => {
    leave?.();
    leave = openDeskChannel(app, org, {
      onAlarm: (frame) => {
        showText(status, '');
        void show(frame.flag as Flag, frame);
      },
      onResolved: resolved,
      onState: (state, reason) => {
        live.dataset.state = state;
        if (reason) showText(live, reason);
        else setText(live, state === 'live' ? 'nursingDeskLive' : state === 'connecting' ? 'nursingDeskConnecting' : 'nursingDeskClosed');
      },
    });
  };
  organization.addEventListener('change', () => join(organization.value));

  const load = async () => {
    try {
      const orgs = await myOrganizations(app);
      if (!alive) return;
      organization.replaceChildren(...orgs.map((o) => el('option', { text: o.name, attrs: { value: o.reference } })));
      if (!orgs.length) {
        setText(status, 'nursingNoInstitution');
        live.dataset.state = 'closed';
      } else join(orgs[0].reference);
      const active = await activeAlarms(app);
      for (const flag of active) await show(flag);
      if (alive && status.dataset.i18n === 'nursingLoading') setText(status, active.length ? 'nursingDeskIntro' : 'nursingNoAlarms');
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };
  void load();
}

/** Active alarm Flags of the orders this desk may see (FHIR's Flag has no search by code or status: the chain tag, filtered here). */
async function activeAlarms(app: AppContext): Promise<Flag[]> {
  const isAlarm = (f: Flag) => f.status === 'active' && !!f.code?.coding?.some((c) => c.system === HN && c.code === 'nurse-alarm');
  return (await search<Flag>(app, `Flag?_tag=${encodeURIComponent(`${HN}|order-chain`)}&_count=100`)).matches.filter(isAlarm);
}

function positionOf(flag: Flag): { latitude: number; longitude: number } | undefined {
  const parts = flag.extension?.find((e) => e.url === NURSE_POSITION)?.extension ?? [];
  const latitude = parts.find((p) => p.url === 'latitude')?.valueDecimal;
  const longitude = parts.find((p) => p.url === 'longitude')?.valueDecimal;
  return latitude !== undefined && longitude !== undefined ? { latitude, longitude } : undefined;
}
