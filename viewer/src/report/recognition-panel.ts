// The study's mutual-recognition mark (MR-04): shown to every reader ("沪HR · QC passed", or not
// recognised), and settable from here. Who may set it is the hub's decision (doctors,
// administrators, institutions); anyone else gets the hub's refusal in plain words.
import type { AppContext } from '../app-context.js';
import { SessionExpired } from '../auth/session.js';
import { onLanguageChange, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';

interface Recognition {
  region: string;
  mark: string;
  qcStatus: 'passed' | 'failed' | 'pending';
  recognisedAt?: string;
}

const QC: { value: Recognition['qcStatus']; label: MessageKey }[] = [
  { value: 'passed', label: 'qcPassed' },
  { value: 'pending', label: 'qcPending' },
  { value: 'failed', label: 'qcFailed' },
];
/** The district's own prefix; another region's mark can still be typed in. */
const DEFAULT_REGION = '沪';

/** `ready`: when to ask for the mark (after the first image, so it does not slow it). */
export function recognitionPanel(app: AppContext, studyUid: string, scope: Scope, ready: Promise<unknown> = Promise.resolve()): HTMLElement {
  const url = `${app.hub.imaging}/studies/${encodeURIComponent(studyUid)}/recognition`;
  let current: Recognition | undefined;
  const mark = el('p', { className: 'recognition-mark', attrs: { 'data-testid': 'recognition-mark' } });
  const region = el('input', { attrs: { type: 'text', value: DEFAULT_REGION, maxlength: 8, size: 4, 'data-testid': 'recognition-region' }, i18nAttrs: { 'aria-label': 'recognitionRegion', title: 'recognitionRegion' } });
  const qc = el('select', { attrs: { 'data-testid': 'recognition-qc' }, i18nAttrs: { 'aria-label': 'recognitionQc' } }, QC.map((q) => el('option', { i18n: q.label, attrs: { value: q.value } })));
  const problem = el('p', { className: 'error', attrs: { role: 'alert', 'data-testid': 'recognition-error', hidden: true } });
  const save = el('button', { i18n: 'recognitionSet', attrs: { 'data-testid': 'recognition-save' }, on: { click: () => void set() } });

  const render = () => {
    mark.dataset.mark = current?.mark ?? '';
    mark.dataset.qc = current?.qcStatus ?? '';
    if (!current) return setText(mark, 'recognitionNone');
    const label = QC.find((q) => q.value === current!.qcStatus)?.label ?? 'qcPending';
    setText(mark, 'recognitionMark', { mark: current.mark, qc: t(label) });
  };

  const fail = (err: unknown) => {
    if (err instanceof SessionExpired) return app.signInAgain();
    problem.hidden = false;
    problem.textContent = t('recognitionFailed', { reason: (err as Error).message });
  };

  const set = async () => {
    problem.hidden = true;
    save.disabled = true;
    try {
      const res = await app.client.request(url, { method: 'PUT', json: { region: region.value.trim(), qcStatus: qc.value }, accept: 'application/json' });
      current = (await res.json()) as Recognition;
      render();
    } catch (err) {
      fail(err);
    } finally {
      save.disabled = false;
    }
  };

  scope.add(onLanguageChange(render));
  render();
  void (async () => {
    try {
      await ready;
      const res = await app.client.get(url, { accept: 'application/json', allow: [404] });
      current = res.status === 404 ? undefined : ((await res.json()) as Recognition);
      if (current) {
        region.value = current.region;
        qc.value = current.qcStatus;
      }
      render();
    } catch (err) {
      fail(err);
    }
  })();

  return el('section', { className: 'panel recognition', attrs: { 'data-testid': 'recognition' } }, [
    el('h2', { i18n: 'recognition' }),
    mark,
    el('div', { className: 'recognition-form' }, [region, qc, save]),
    problem,
  ]);
}
