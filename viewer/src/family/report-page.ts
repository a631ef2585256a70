// Administrators and the regulator: the district's family-doctor indicators (GET Contract/$report,
// FD-04) — people signed against everyone the hub knows, overall, per community centre and per
// priority group, and how many of those each yearly requirement applies to met it (FD-07..09).
// Counts only; the hub names no patient in the answer.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText } from '../hospital/format.js';
import { isRefusal, read } from '../hospital/hospital-api.js';
import { entriesOf, groupKey, kindKey, type ParametersBody, type Part } from './family-codes.js';

interface ReportBody extends ParametersBody {
  parameter?: (Part & { valueDecimal?: number })[];
}

const percent = (value: number | undefined) => (value === undefined ? '' : `${(value * 100).toFixed(1)}%`);
const decimal = (parts: Map<string, Part[]>, name: string) => (parts.get(name)?.[0] as { valueDecimal?: number } | undefined)?.valueDecimal;
const integer = (parts: Map<string, Part[]>, name: string) => parts.get(name)?.[0]?.valueInteger;

export function reportPage(app: AppContext, container: HTMLElement, scope: Scope): void {
  let alive = true;
  scope.add(() => (alive = false));
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'report-status' }, i18n: 'familyLoading' });
  const summary = el('p', { className: 'report-summary', attrs: { 'data-testid': 'report-summary' } });
  const groups = el('tbody');
  const followUps = el('tbody');
  const centres = el('tbody');
  const table = (head: ('familyGroup' | 'familyKind' | 'familyCentre' | 'familyPopulation' | 'familySignedCount' | 'familyCoverage' | 'familyEligible' | 'familyCompleted' | 'familyRate')[], body: HTMLElement, id: string) =>
    el('table', { attrs: { 'data-testid': id } }, [el('thead', {}, [el('tr', {}, head.map((key) => el('th', { i18n: key })))]), body]);
  const section = el('section', { className: 'hospital-page', attrs: { 'data-testid': 'family-report' } }, [
    el('h1', { i18n: 'familyReport' }),
    status,
    summary,
    el('h2', { i18n: 'familyReportGroups' }),
    table(['familyGroup', 'familyPopulation', 'familySignedCount', 'familyCoverage'], groups, 'report-groups'),
    el('h2', { i18n: 'familyReportFollowUp' }),
    table(['familyKind', 'familyEligible', 'familyCompleted', 'familyRate'], followUps, 'report-follow-ups'),
    el('h2', { i18n: 'familyReportCentres' }),
    table(['familyCentre', 'familySignedCount'], centres, 'report-centres'),
  ]);
  container.replaceChildren(section);

  const load = async () => {
    try {
      const body = await app.client.json<ReportBody>(`${app.hub.fhirBase}/Contract/$report`, { accept: 'application/fhir+json' });
      if (!alive) return;
      const value = (name: string) => body.parameter?.find((p) => p.name === name);
      showText(status, '');
      summary.replaceChildren(
        el('span', { i18n: 'familyReportSummary', i18nValues: { signed: String(value('signed')?.valueInteger ?? 0), population: String(value('population')?.valueInteger ?? 0), coverage: percent(value('coverage')?.valueDecimal), date: value('date')?.valueDate ?? '' } }),
      );
      groups.replaceChildren(...entriesOf(body, 'group').map((g) => {
        const code = g.get('code')?.[0]?.valueCode ?? '';
        return el('tr', { attrs: { 'data-testid': 'report-group', 'data-group': code } }, [
          el('td', { i18n: groupKey(code) }), el('td', { text: String(integer(g, 'population') ?? 0) }), el('td', { text: String(integer(g, 'signed') ?? 0) }), el('td', { text: percent(decimal(g, 'coverage')) }),
        ]);
      }));
      followUps.replaceChildren(...entriesOf(body, 'followUp').map((f) => {
        const kind = f.get('kind')?.[0]?.valueCode ?? '';
        return el('tr', { attrs: { 'data-testid': 'report-follow-up', 'data-kind': kind } }, [
          el('td', {}, [el('span', { i18n: kindKey(kind) }), el('span', { className: 'rule', text: ` ${f.get('rule')?.[0]?.valueCode ?? ''}` })]),
          el('td', { text: String(integer(f, 'eligible') ?? 0) }), el('td', { text: String(integer(f, 'completed') ?? 0) }), el('td', { text: percent(decimal(f, 'rate')) }),
        ]);
      }));
      const rows = await Promise.all(entriesOf(body, 'centre').map(async (c) => {
        const reference = c.get('organization')?.[0]?.valueReference?.reference ?? '';
        const name = await read<{ resourceType: string; name?: string }>(app, reference).then((o) => o.name ?? reference, () => reference);
        return el('tr', { attrs: { 'data-testid': 'report-centre' } }, [el('td', { text: name }), el('td', { text: String(integer(c, 'signed') ?? 0) })]);
      }));
      if (alive) centres.replaceChildren(...rows);
    } catch (err) {
      showText(status, failureText(err, isRefusal(err)));
    }
    section.dataset.loaded = 'true';
  };
  setText(status, 'familyLoading');
  void load();
}
