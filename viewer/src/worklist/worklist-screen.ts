// The worklist: QIDO-RS studies with filters, paged with limit/offset, sortable by column (within
// the page: QIDO-RS defines no ordering). Filters, page and sort are kept while the user reads a
// study, so "back to the worklist" returns to the same list.
import { SessionExpired } from '../auth/session.js';
import type { AppContext } from '../app-context.js';
import type { DicomJson } from '../dicomweb/dicom-json.js';
import { language, onLanguageChange, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { clear, el, setText, translateTree } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { assignmentsSection } from './assignments.js';
import { sortRows, studyRow, type Sort, type SortKey, type StudyRow } from './study-row.js';
import { NO_FILTERS, studyQuery, type WorklistFilters } from './worklist-query.js';

const MODALITIES = ['CT', 'MR', 'CR', 'DX', 'DR', 'MG', 'US', 'NM', 'PT', 'XA', 'RF', 'OT'];
const PAGE_SIZES = [10, 25, 50, 100];

const COLUMNS: { key: SortKey; label: MessageKey }[] = [
  { key: 'patientName', label: 'columnPatientName' },
  { key: 'patientId', label: 'columnPatientId' },
  { key: 'birthDate', label: 'columnSexBirth' },
  { key: 'date', label: 'columnDate' },
  { key: 'modalities', label: 'columnModality' },
  { key: 'description', label: 'columnDescription' },
  { key: 'accession', label: 'columnAccession' },
  { key: 'institution', label: 'columnInstitution' },
  { key: 'instanceCount', label: 'columnImages' },
];

interface WorklistState {
  filters: WorklistFilters;
  offset: number;
  size: number;
  sort: Sort;
}

// Lives as long as the page: the worklist comes back as it was left.
const state: WorklistState = { filters: { ...NO_FILTERS }, offset: 0, size: 25, sort: { key: 'date', descending: true } };

export function worklistScreen(app: AppContext, container: HTMLElement, scope: Scope): void {
  let results: DicomJson[] = [];
  let hasNext = false;
  let search = 0;

  const input = (name: keyof WorklistFilters, label: MessageKey, type = 'text', placeholder?: MessageKey) => {
    const field = el('input', { attrs: { type, name, value: state.filters[name], 'data-testid': `filter-${name}`, autocomplete: 'off' }, i18nAttrs: placeholder ? { placeholder } : undefined });
    return { field, label: el('label', {}, [el('span', { i18n: label }), field]) };
  };
  const name = input('patientName', 'filterPatientName', 'text', 'wildcardHint');
  const patientId = input('patientId', 'filterPatientId', 'text', 'wildcardHint');
  const dateFrom = input('dateFrom', 'filterDateFrom', 'date');
  const dateTo = input('dateTo', 'filterDateTo', 'date');
  const accession = input('accession', 'filterAccession');
  const institution = input('institution', 'filterInstitution');
  const modality = el('select', { attrs: { name: 'modality', 'data-testid': 'filter-modality' } }, [
    el('option', { i18n: 'filterAnyModality', attrs: { value: '' } }),
    ...MODALITIES.map((m) => el('option', { text: m, attrs: { value: m, selected: state.filters.modality === m } })),
  ]);
  const readFilters = (): WorklistFilters => ({
    patientName: name.field.value, patientId: patientId.field.value, modality: modality.value, dateFrom: dateFrom.field.value,
    dateTo: dateTo.field.value, accession: accession.field.value, institution: institution.field.value,
  });
  const form = el('form', { className: 'filters', attrs: { 'data-testid': 'worklist-filters', role: 'search' }, on: {
    submit: (event) => {
      event.preventDefault();
      state.filters = readFilters();
      state.offset = 0;
      void run();
    },
  } }, [
    name.label, patientId.label,
    el('label', {}, [el('span', { i18n: 'filterModality' }), modality]),
    dateFrom.label, dateTo.label, accession.label, institution.label,
    el('span', { className: 'actions' }, [
      el('button', { className: 'primary', i18n: 'search', attrs: { type: 'submit', 'data-testid': 'search' } }),
      el('button', { i18n: 'clearFilters', attrs: { type: 'button', 'data-testid': 'clear-filters' }, on: { click: () => {
        for (const field of [name, patientId, dateFrom, dateTo, accession, institution]) field.field.value = '';
        modality.value = '';
        form.requestSubmit();
      } } }),
    ]),
  ]);

  const head = el('tr');
  const body = el('tbody');
  const status = el('p', { className: 'status', attrs: { role: 'status', 'data-testid': 'worklist-status' } });
  const pageInfo = el('span', { className: 'page-info' });
  const previous = el('button', { i18n: 'pagePrevious', attrs: { 'data-testid': 'page-previous' }, on: { click: () => turn(-1) } });
  const next = el('button', { i18n: 'pageNext', attrs: { 'data-testid': 'page-next' }, on: { click: () => turn(1) } });
  const size = el('select', { attrs: { 'data-testid': 'page-size' }, on: { change: () => {
    state.size = Number(size.value);
    state.offset = 0;
    void run();
  } } }, PAGE_SIZES.map((n) => el('option', { text: String(n), attrs: { value: n, selected: n === state.size } })));
  const turn = (direction: number) => {
    state.offset = Math.max(0, state.offset + direction * state.size);
    void run();
  };

  const renderHead = () => {
    head.replaceChildren(...COLUMNS.map((column) => {
      const sorted = state.sort.key === column.key;
      return el('th', { attrs: { 'aria-sort': sorted ? (state.sort.descending ? 'descending' : 'ascending') : 'none', scope: 'col' } }, [
        el('button', { className: 'sort', text: `${t(column.label)}${sorted ? (state.sort.descending ? ' ▼' : ' ▲') : ''}`, attrs: { 'data-testid': `sort-${column.key}`, title: t('sortHint') }, on: { click: () => {
          state.sort = { key: column.key, descending: sorted ? !state.sort.descending : false };
          render();
        } } }),
      ]);
    }));
  };

  const render = () => {
    renderHead();
    clear(body);
    const rows: StudyRow[] = sortRows(results.map((r) => studyRow(r, language() === 'zh-CN')), state.sort);
    for (const row of rows) {
      const href = `#/study/${encodeURIComponent(row.studyUid)}`;
      body.append(el('tr', { attrs: { 'data-testid': 'study-row', 'data-study-uid': row.studyUid } }, [
        el('td', {}, [el('a', { text: row.patientName || '—', attrs: { href, 'data-testid': 'open-study' } })]),
        el('td', { text: row.patientId }),
        el('td', { text: [row.sex, row.birthDate].filter(Boolean).join(' ') }),
        el('td', { text: row.date }),
        el('td', { text: row.modalities }),
        el('td', { text: row.description }),
        el('td', { text: row.accession }),
        el('td', { text: row.institution }),
        el('td', { className: 'number', text: `${row.seriesCount} / ${row.instanceCount}` }),
      ]));
    }
    if (!rows.length) setText(status, 'noStudies');
    else status.textContent = '';
    pageInfo.textContent = rows.length ? t('pageInfo', { from: state.offset + 1, to: state.offset + rows.length }) : '';
    previous.disabled = state.offset === 0;
    next.disabled = !hasNext;
  };

  const run = async () => {
    const mine = ++search;
    setText(status, 'loading');
    try {
      const params = studyQuery(state.filters, { offset: state.offset, size: state.size });
      const page = await app.client.json<DicomJson[]>(`${app.hub.dicomweb}/studies?${params}`, { accept: 'application/dicom+json' });
      if (mine !== search) return;
      hasNext = page.length > state.size;
      results = page.slice(0, state.size);
      render();
    } catch (err) {
      if (mine !== search) return;
      if (err instanceof SessionExpired) return app.signInAgain();
      results = [];
      hasNext = false;
      render();
      setText(status, 'loadFailed', { reason: (err as Error).message });
    }
  };

  container.replaceChildren(
    el('section', { className: 'worklist', attrs: { 'data-testid': 'worklist' } }, [
      assignmentsSection(app, scope),
      el('h1', { i18n: 'worklist' }),
      form,
      el('div', { className: 'table-wrap' }, [el('table', { className: 'studies' }, [el('thead', {}, [head]), body])]),
      status,
      el('div', { className: 'pager' }, [previous, pageInfo, next, el('label', {}, [el('span', { i18n: 'pageSize' }), size])]),
    ]),
  );
  scope.add(onLanguageChange(() => {
    translateTree(container);
    render();
  }));
  renderHead();
  void run();
}
