// The report panel of the reading screen: findings and impression, saved as a draft, signed into
// the final report, and amended later as a new signed version. Signing asks for a second click
// (the button turns into "confirm"), so a report is never signed by a stray click. The versions
// list shows every version with its signature checked by the hub.
import type { AppContext } from '../app-context.js';
import { SessionExpired } from '../auth/session.js';
import { language, onLanguageChange, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { clear, el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { isSigned, ReportApi, reportText, type DiagnosticReport, type ReportText, type ReportVersion } from './report-api.js';

type Mode = 'loading' | 'draft' | 'signed' | 'amending';

/** `ready`: when to load the reports (after the first image, so they do not slow it). */
export function reportPanel(app: AppContext, studyUid: string, scope: Scope, ready: Promise<unknown> = Promise.resolve()): HTMLElement {
  const api = new ReportApi(app.client, app.hub.imaging);
  const me = app.session.fhirUser();
  let report: DiagnosticReport | undefined;
  let mode: Mode = 'loading';
  let saved: ReportText = { findings: '', impression: '' };

  const status = el('p', { className: 'report-status', attrs: { 'data-testid': 'report-status', role: 'status' } });
  const findings = el('textarea', { attrs: { rows: 6, 'data-testid': 'report-findings', maxlength: 20000 }, i18nAttrs: { 'aria-label': 'reportFindings' } });
  const impression = el('textarea', { attrs: { rows: 3, 'data-testid': 'report-impression', maxlength: 20000 }, i18nAttrs: { 'aria-label': 'reportImpression' } });
  const problem = el('p', { className: 'error', attrs: { role: 'alert', 'data-testid': 'report-error', hidden: true } });
  const save = el('button', { i18n: 'reportSaveDraft', attrs: { 'data-testid': 'report-save' }, on: { click: () => void act(saveDraft) } });
  const sign = el('button', { className: 'primary', i18n: 'reportSign', attrs: { 'data-testid': 'report-sign' }, on: { click: () => void signClicked() } });
  const amend = el('button', { i18n: 'reportAmend', attrs: { 'data-testid': 'report-amend' }, on: { click: () => startAmending() } });
  const versions = el('ol', { className: 'report-versions', attrs: { 'data-testid': 'report-versions' } });

  const typed = (): ReportText => ({ findings: findings.value.trim(), impression: impression.value.trim() });
  const changed = () => typed().findings !== saved.findings || typed().impression !== saved.impression;
  const disarm = () => {
    delete sign.dataset.armed;
    setText(sign, mode === 'amending' ? 'reportSignAmendment' : 'reportSign');
  };

  const show = (next: DiagnosticReport | undefined, nextMode: Mode) => {
    report = next;
    mode = nextMode;
    saved = next ? reportText(next) : { findings: '', impression: '' };
    if (nextMode !== 'amending') {
      findings.value = saved.findings;
      impression.value = saved.impression;
    }
    render();
    if (next) void loadVersions(next.id);
  };

  const render = () => {
    const editable = mode === 'draft' || mode === 'amending';
    findings.readOnly = impression.readOnly = !editable;
    save.hidden = mode !== 'draft';
    sign.hidden = !editable;
    amend.hidden = mode !== 'signed';
    disarm();
    status.dataset.status = report?.status ?? 'none';
    status.dataset.version = report?.meta?.versionId ?? '';
    if (mode === 'loading') setText(status, 'loading');
    else if (!report) setText(status, 'reportNone');
    else if (mode === 'amending') setText(status, 'reportAmending', { version: report.meta?.versionId ?? '' });
    else setText(status, statusKey(report.status), { version: report.meta?.versionId ?? '', when: formatTime(report.issued ?? report.meta?.lastUpdated) });
  };

  const fail = (err: unknown) => {
    if (err instanceof SessionExpired) return app.signInAgain();
    problem.hidden = false;
    problem.textContent = t('reportFailed', { reason: (err as Error).message });
  };
  const act = async (work: () => Promise<void>) => {
    problem.hidden = true;
    for (const b of [save, sign, amend]) b.disabled = true;
    try {
      await work();
    } catch (err) {
      fail(err);
    } finally {
      for (const b of [save, sign, amend]) b.disabled = false;
    }
  };

  const saveDraft = async () => {
    const text = typed();
    if (report && mode === 'draft') show(changed() ? await api.updateDraft(report, text, language()) : report, 'draft');
    else show(await api.createDraft(studyUid, text, language()), 'draft');
  };

  const signClicked = async () => {
    if (!sign.dataset.armed) {
      sign.dataset.armed = 'true';
      setText(sign, 'reportConfirmSign');
      return;
    }
    await act(async () => {
      if (mode === 'amending' && report) {
        show(await api.sign(report, { ...typed(), language: language() }), 'signed');
        return;
      }
      if (!report || changed()) await saveDraft();
      show(await api.sign(report!), 'signed');
    });
  };

  const startAmending = () => {
    mode = 'amending';
    render();
    findings.focus();
  };

  let shownVersions: ReportVersion[] = [];
  const renderVersions = () => {
    clear(versions);
    for (const v of shownVersions) {
      const signature = v.signature ? (v.signature.valid ? t('reportSignatureValid') : t('reportSignatureInvalid', { problem: v.signature.problem ?? '' })) : '';
      versions.append(
        el('li', { attrs: { 'data-testid': 'report-version', 'data-version': v.versionId, 'data-status': v.status, 'data-valid': v.signature ? String(v.signature.valid) : undefined } }, [
          el('strong', { text: t('reportVersion', { version: v.versionId }) }),
          ` ${t(statusKey(v.status), { version: v.versionId, when: formatTime(v.issued ?? v.lastUpdated) })}`,
          signature ? el('small', { className: v.signature?.valid ? 'ok' : 'error', text: ` ${signature}` }) : null,
        ]),
      );
    }
  };
  const loadVersions = async (id: string) => {
    try {
      shownVersions = await api.versions(id);
      renderVersions();
    } catch (err) {
      fail(err);
    }
  };

  scope.add(onLanguageChange(() => {
    render();
    renderVersions();
  }));
  render();
  void (async () => {
    try {
      await ready;
      const reports = await api.ofStudy(studyUid);
      // My open draft first; otherwise the newest report (signed by anyone).
      const draft = reports.find((r) => !isSigned(r) && r.resultsInterpreter?.[0]?.reference === me);
      const current = draft ?? reports.find(isSigned);
      show(current, current && isSigned(current) ? 'signed' : 'draft');
    } catch (err) {
      mode = 'draft';
      render();
      fail(err);
    }
  })();

  return el('section', { className: 'panel report-panel', attrs: { 'data-testid': 'report-panel' } }, [
    el('h2', { i18n: 'report' }),
    status,
    el('label', {}, [el('span', { i18n: 'reportFindings' }), findings]),
    el('label', {}, [el('span', { i18n: 'reportImpression' }), impression]),
    problem,
    el('div', { className: 'report-actions' }, [save, sign, amend]),
    el('details', {}, [el('summary', { i18n: 'reportVersions' }), versions]),
  ]);
}

function statusKey(status: string): MessageKey {
  if (status === 'final') return 'reportStatusFinal';
  if (status === 'amended' || status === 'corrected' || status === 'appended') return 'reportStatusAmended';
  return 'reportStatusDraft';
}

function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(language(), { dateStyle: 'short', timeStyle: 'short' });
}
