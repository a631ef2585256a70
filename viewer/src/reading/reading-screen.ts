// The reading screen: toolbar, the study's series, the viewports (one, or two or four side by
// side — 1×2, 2×2 — each a ViewportCell with its own series, overlay, slider and measurements),
// and the side panel. The toolbar and the keys act on the active cell (outlined; a click in a
// cell activates it); a series chosen in the column opens in the active cell. Laid out for a
// 1366×768 laptop: the series column and the side panel are narrow, the viewports take the rest.
import { SessionExpired } from '../auth/session.js';
import type { AppContext } from '../app-context.js';
import { text, type DicomJson } from '../dicomweb/dicom-json.js';
import { onLanguageChange, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { seriesStrip } from '../study/series-strip.js';
import { el, setText, translateTree } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { shareControl } from '../share/share-dialog.js';
import { cineControls } from './cine-controls.js';
import { icon } from './icons.js';
import { helpDialog } from './help-panel.js';
import { handleShortcut, type Shortcut } from './keyboard.js';
import { recognitionPanel } from '../report/recognition-panel.js';
import { reportPanel } from '../report/report-panel.js';
import { orientationControls } from './orientation-controls.js';
import { WINDOW_PRESETS } from './presets.js';
import type { ToolName } from './tools.js';
import { ActiveCine } from './active-cine.js';
import { LAYOUTS, type Layout } from './layouts.js';
import { ViewportCell } from './viewport-cell.js';
import { loadStudy } from '../study/study-data.js';

const TOOLS: { name: ToolName; label: MessageKey; key: string; hint?: MessageKey }[] = [
  { name: 'windowLevel', label: 'toolWindowLevel', key: 'w' },
  { name: 'pan', label: 'toolPan', key: 'p' },
  { name: 'zoom', label: 'toolZoom', key: 'z' },
  { name: 'length', label: 'toolLength', key: 'l' },
  { name: 'angle', label: 'toolAngle', key: 'a', hint: 'keyAngleHint' },
  { name: 'rectangle', label: 'toolRectangle', key: 'b' },
  { name: 'ellipse', label: 'toolEllipse', key: 'e' },
  { name: 'probe', label: 'toolProbe', key: 'v' },
];

export function readingScreen(app: AppContext, container: HTMLElement, studyUid: string, scope: Scope): void {
  // Asked for first: the hub answers while the screen is being built (awaited below).
  const studyLoading = loadStudy(app.dicomweb.client, app.dicomweb.base, studyUid);
  let study: DicomJson = {};
  let allSeries: DicomJson[] = [];
  let strip: { select(uid: string): void } | undefined;
  let layout: Layout = LAYOUTS[0];
  let activeTool: ToolName = 'windowLevel';
  const cells: ViewportCell[] = [];
  let active!: ViewportCell;
  const current = () => active.viewport;

  const grid = el('div', { className: 'viewport-grid', attrs: { 'data-testid': 'viewport-grid', 'data-layout': layout.id } });
  const cellPanel = el('div', { className: 'cell-panels' });
  const cine = new ActiveCine(() => active.cine, () => cells.map((c) => c.cine));
  const activate = (cell: ViewportCell) => {
    if (cell === active) return;
    active = cell;
    for (const c of cells) c.setActive(c === cell && cells.length > 1);
    cellPanel.replaceChildren(cell.panel);
    const uid = cell.series ? text(cell.series, '0020000E') : undefined;
    if (uid) strip?.select(uid);
    cine.changed();
  };
  /** A new cell in the grid; attached at once unless the grid is not in the document yet. */
  const addCell = (attach = true) => {
    const cell = new ViewportCell(app, studyUid, () => study, activate);
    cell.useTool(activeTool);
    cell.cine.onChange(() => cine.changed());
    cells.push(cell);
    grid.append(cell.element);
    if (attach) cell.attach();
    return cell;
  };
  // The first cell exists before the controls that act on the active cell are built.
  active = addCell(false);
  // Thumbnails, shares, reports and the recognition mark are asked for once the first image is
  // loaded or has failed: the hub answering them at the same time delayed it (see PERFORMANCE.md).
  let releaseThumbnails: () => void = () => undefined;
  const firstImageLoaded = new Promise<void>((resolve) => (releaseThumbnails = resolve));
  const first = cells[0].viewport;
  const releaseUnlessLoading = () => {
    if (first.element.dataset.state !== 'loading') releaseThumbnails();
  };
  first.onChange(releaseUnlessLoading);
  const showError = (message: string) => seriesColumn.append(el('p', { className: 'error', text: t('loadFailed', { reason: message }) }));
  const openInActive = (seriesUid: string) => {
    const series = allSeries.find((s) => text(s, '0020000E') === seriesUid);
    if (!series) return Promise.resolve();
    strip?.select(seriesUid);
    const cell = active;
    return cell.open(series, showError).then(() => cell.viewport.element.focus({ preventScroll: true }));
  };
  /** Changes the layout: new cells show the next series not on screen yet; removed cells close. */
  const setLayout = (next: Layout) => {
    layout = next;
    grid.dataset.layout = next.id;
    layoutButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.layout === next.id)));
    while (cells.length > next.cells) cells.pop()!.dispose();
    while (cells.length < next.cells) {
      const cell = addCell();
      const shown = new Set(cells.map((c) => (c.series ? text(c.series, '0020000E') : undefined)));
      const series = allSeries.find((s) => !shown.has(text(s, '0020000E'))) ?? allSeries[allSeries.length - 1];
      if (series) void cell.open(series, showError);
    }
    if (!cells.includes(active)) activate(cells[0]);
    for (const c of cells) c.setActive(c === active && cells.length > 1);
  };

  const toolButtons = TOOLS.map((tool) =>
    el('button', { className: 'tool', i18n: tool.label, i18nAttrs: tool.hint ? { title: tool.hint } : undefined, attrs: { 'data-testid': `tool-${tool.name}`, 'aria-pressed': tool.name === activeTool ? 'true' : 'false' }, on: { click: () => chooseTool(tool.name) } }),
  );
  const chooseTool = (name: ToolName) => {
    activeTool = name;
    for (const cell of cells) cell.useTool(name);
    toolButtons.forEach((b, i) => b.setAttribute('aria-pressed', TOOLS[i].name === name ? 'true' : 'false'));
  };
  const applyPreset = (width: number, center: number) => {
    const viewport = current();
    if (viewport.image && !viewport.image.color) viewport.setViewport({ voi: { windowWidth: width, windowCenter: center } });
  };
  const applyDefaultWindow = () => {
    const image = current().image;
    if (image && !image.color) applyPreset(image.windowWidth, image.windowCenter);
  };
  const toggleInvert = () => {
    const vp = current().viewport();
    if (vp) current().setViewport({ invert: !vp.invert });
  };
  const cineUi = cineControls(cine);
  const orientation = orientationControls({ viewport: () => current().viewport(), setViewport: (change) => current().setViewport(change) });
  const layoutButtons = LAYOUTS.map((l) =>
    el('button', { className: 'icon-button', attrs: { 'data-testid': `layout-${l.id}`, 'data-layout': l.id, 'aria-pressed': String(l === layout) }, i18nAttrs: { title: l.label, 'aria-label': l.label }, on: { click: () => setLayout(l) } }, [icon(l.icon)]),
  );
  const nextLayout = () => setLayout(LAYOUTS[(LAYOUTS.indexOf(layout) + 1) % LAYOUTS.length]);
  const help = helpDialog(() => shortcuts);
  const shortcuts: Shortcut[] = [
    { keys: ['ArrowDown', 'ArrowRight'], label: 'keyNext', run: () => current().scrollBy(1) },
    { keys: ['ArrowUp', 'ArrowLeft'], label: 'keyPrevious', run: () => current().scrollBy(-1) },
    { keys: ['PageDown'], label: 'keyPageDown', run: () => current().scrollBy(10) },
    { keys: ['PageUp'], label: 'keyPageUp', run: () => current().scrollBy(-10) },
    { keys: ['Home', 'End'], label: 'keyFirstLast', run: () => undefined },
    ...TOOLS.map((tool) => ({ keys: tool.key === 'l' ? ['l', 'm'] : [tool.key], label: tool.label, run: () => chooseTool(tool.name) })),
    ...WINDOW_PRESETS.map((p) => ({ keys: [p.key], label: p.label, run: () => applyPreset(p.width, p.center) })),
    { keys: ['0'], label: 'presetDefault', run: applyDefaultWindow },
    { keys: ['i'], label: 'invert', run: toggleInvert },
    { keys: ['r'], label: 'reset', run: () => current().reset() },
    ...orientation.shortcuts,
    ...cineUi.shortcuts,
    { keys: ['g'], label: 'layoutNext', run: nextLayout },
    { keys: ['Tab'], label: 'keyNextCell', run: () => activate(cells[(cells.indexOf(active) + 1) % cells.length]) },
    { keys: ['?', 'h'], label: 'help', run: () => help.open() },
    { keys: ['Escape'], label: 'keyEscape', run: () => active.tools.cancel() },
  ];
  scope.listen(document, 'keydown', (event) => {
    if (help.element.open) return;
    // Tab moves between cells only in a layout of several, and only from a viewport; elsewhere it moves the focus.
    if (event.key === 'Tab' && (cells.length < 2 || !(event.target as Element | null)?.closest?.('.viewport'))) return;
    // Home and End share one line in the help list but go to opposite ends.
    const ends: Shortcut[] = [
      { keys: ['Home'], label: 'keyFirstLast', run: () => void current().show(0) },
      { keys: ['End'], label: 'keyFirstLast', run: () => void current().show(current().length - 1) },
    ];
    if (handleShortcut(event, [...ends, ...shortcuts]) && event.key === 'Tab') active.viewport.element.focus({ preventScroll: true });
  });

  const seriesColumn = el('div', { className: 'series-column' }, [el('p', { className: 'hint', i18n: 'loading' })]);
  const toolbar = el('div', { className: 'toolbar', attrs: { role: 'toolbar' } }, [
    // Opened from a share link there is no worklist to go back to, and nothing to share.
    app.sharedLink ? null : el('button', { className: 'back', i18n: 'backToWorklist', attrs: { 'data-testid': 'back-to-worklist' }, on: { click: () => app.navigate('#/') } }),
    el('span', { className: 'group' }, toolButtons),
    el('span', { className: 'group', attrs: { 'aria-label': t('presets') } }, [
      ...WINDOW_PRESETS.map((p) =>
        el('button', { className: 'preset', i18n: p.label, attrs: { 'data-testid': `preset-${p.id}`, title: `${p.width} / ${p.center} (${p.key})` }, on: { click: () => applyPreset(p.width, p.center) } }),
      ),
      el('button', { className: 'preset', i18n: 'presetDefault', attrs: { 'data-testid': 'preset-default', title: '0' }, on: { click: applyDefaultWindow } }),
    ]),
    el('span', { className: 'group' }, [
      el('button', { i18n: 'invert', attrs: { 'data-testid': 'invert', title: 'I' }, on: { click: toggleInvert } }),
      el('button', { i18n: 'reset', attrs: { 'data-testid': 'reset', title: 'R' }, on: { click: () => current().reset() } }),
      el('button', { i18n: 'help', attrs: { 'data-testid': 'help-open', title: '?' }, on: { click: () => help.open() } }),
    ]),
    el('span', { className: 'group' }, orientation.buttons),
    el('span', { className: 'group' }, layoutButtons),
    cineUi.element,
    shareControl(app, studyUid, scope, firstImageLoaded),
  ]);
  // A mouse click on a toolbar button leaves the keyboard focus where it was (on the image), so
  // the space bar still plays cine after choosing a tool; Tab still reaches every button.
  toolbar.addEventListener('mousedown', (e) => {
    if ((e.target as Element).closest('.toolbar > .group > button')) e.preventDefault();
  });
  container.replaceChildren(
    el('div', { className: 'reading', attrs: { 'data-testid': 'reading' } }, [
      toolbar,
      el('div', { className: 'reading-body' }, [
        seriesColumn,
        el('div', { className: 'viewport-column' }, [grid]),
        el('aside', { className: 'side-panel' }, [
          cellPanel,
          // Reports and the recognition mark need an account: not on a share link.
          app.sharedLink ? null : reportPanel(app, studyUid, scope, firstImageLoaded),
          app.sharedLink ? null : recognitionPanel(app, studyUid, scope, firstImageLoaded),
        ]),
      ]),
      help.element,
    ]),
  );
  active.attach();
  cellPanel.replaceChildren(active.panel);
  scope.add(() => {
    for (const cell of cells) cell.dispose();
  });
  scope.add(onLanguageChange(() => {
    translateTree(container);
    for (const cell of cells) cell.retranslate();
  }));


  void (async () => {
    try {
      const data = await studyLoading;
      study = data.study;
      allSeries = data.series;
      const column = seriesStrip(app.dicomweb.client, app.dicomweb.base, studyUid, data.series, (uid) => void openInActive(uid), scope, firstImageLoaded);
      strip = column;
      seriesColumn.replaceChildren(el('h2', { i18n: 'series' }), column.element);
      const firstSeries = data.series[0];
      if (firstSeries) await openInActive(text(firstSeries, '0020000E') ?? '');
      else first.setStack([]);
      releaseUnlessLoading();
    } catch (err) {
      releaseThumbnails();
      if (err instanceof SessionExpired) return app.signInAgain();
      const message = el('p', { className: 'error', attrs: { role: 'alert' } });
      setText(message, 'loadFailed', { reason: (err as Error).message });
      seriesColumn.replaceChildren(message);
    }
  })();
}
