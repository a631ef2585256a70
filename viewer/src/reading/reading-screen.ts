// The reading screen: toolbar, the study's series, one stack viewport with its overlay and
// slider, and the measurement panel. Laid out for a 1366×768 laptop: the series column and the
// side panel are narrow, the viewport takes the rest.
import { SessionExpired } from '../auth/session.js';
import type { AppContext } from '../app-context.js';
import { text, type DicomJson } from '../dicomweb/dicom-json.js';
import { onLanguageChange, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { loadSeriesStack, loadStudy } from '../study/study-data.js';
import { seriesStrip } from '../study/series-strip.js';
import { el, setText, translateTree } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { shareControl } from '../share/share-dialog.js';
import { Cine } from './cine.js';
import { cineControls } from './cine-controls.js';
import { helpDialog } from './help-panel.js';
import { handleShortcut, type Shortcut } from './keyboard.js';
import { drawMeasurements } from './measurement-layer.js';
import { measurementPanel } from './measurement-panel.js';
import { measurementSaving } from '../report/measurement-saving.js';
import { recognitionPanel } from '../report/recognition-panel.js';
import { reportPanel } from '../report/report-panel.js';
import { MeasurementList } from './measurements.js';
import { modalityUnit } from './modality-unit.js';
import { orientationControls } from './orientation-controls.js';
import { viewportOverlay } from './overlay.js';
import { pixelProbe } from './probe.js';
import { WINDOW_PRESETS } from './presets.js';
import { StackViewport } from './stack-viewport.js';
import { ViewportTools, type ToolName } from './tools.js';

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
  const measurements = new MeasurementList();
  const saving = app.sharedLink ? undefined : measurementSaving(app, studyUid, measurements, scope);
  const viewport = new StackViewport(() => app.signInAgain());
  const valueUnit = (imageId: string) => modalityUnit(app.catalogue.get(imageId)?.metadata);
  const tools = new ViewportTools(viewport, measurements, valueUnit);
  drawMeasurements(viewport, measurements, tools);
  const probe = pixelProbe(viewport, () => tools.active === 'probe', valueUnit, scope);
  const cine = new Cine(viewport);
  tools.onUserScroll(() => cine.stop());
  scope.add(() => cine.stop());
  const cineUi = cineControls(cine);
  const orientation = orientationControls(viewport);
  let study: DicomJson = {};
  let openSeries: DicomJson | undefined;

  const toolButtons = TOOLS.map((tool) =>
    el('button', { className: 'tool', i18n: tool.label, i18nAttrs: tool.hint ? { title: tool.hint } : undefined, attrs: { 'data-testid': `tool-${tool.name}`, 'aria-pressed': tool.name === tools.active ? 'true' : 'false' }, on: { click: () => chooseTool(tool.name) } }),
  );
  const chooseTool = (name: ToolName) => {
    tools.cancel();
    tools.active = name;
    toolButtons.forEach((b, i) => b.setAttribute('aria-pressed', TOOLS[i].name === name ? 'true' : 'false'));
    probe.refresh();
  };
  const applyPreset = (width: number, center: number) => {
    if (viewport.image && !viewport.image.color) viewport.setViewport({ voi: { windowWidth: width, windowCenter: center } });
  };
  const applyDefaultWindow = () => {
    const image = viewport.image;
    if (image && !image.color) applyPreset(image.windowWidth, image.windowCenter);
  };
  const toggleInvert = () => {
    const vp = viewport.viewport();
    if (vp) viewport.setViewport({ invert: !vp.invert });
  };
  const help = helpDialog(() => shortcuts);
  const shortcuts: Shortcut[] = [
    { keys: ['ArrowDown', 'ArrowRight'], label: 'keyNext', run: () => viewport.scrollBy(1) },
    { keys: ['ArrowUp', 'ArrowLeft'], label: 'keyPrevious', run: () => viewport.scrollBy(-1) },
    { keys: ['PageDown'], label: 'keyPageDown', run: () => viewport.scrollBy(10) },
    { keys: ['PageUp'], label: 'keyPageUp', run: () => viewport.scrollBy(-10) },
    { keys: ['Home', 'End'], label: 'keyFirstLast', run: () => undefined },
    ...TOOLS.map((tool) => ({ keys: tool.key === 'l' ? ['l', 'm'] : [tool.key], label: tool.label, run: () => chooseTool(tool.name) })),
    ...WINDOW_PRESETS.map((p) => ({ keys: [p.key], label: p.label, run: () => applyPreset(p.width, p.center) })),
    { keys: ['0'], label: 'presetDefault', run: applyDefaultWindow },
    { keys: ['i'], label: 'invert', run: toggleInvert },
    { keys: ['r'], label: 'reset', run: () => viewport.reset() },
    ...orientation.shortcuts,
    ...cineUi.shortcuts,
    { keys: ['?', 'h'], label: 'help', run: () => help.open() },
    { keys: ['Escape'], label: 'keyEscape', run: () => tools.cancel() },
  ];
  scope.listen(document, 'keydown', (event) => {
    if (help.element.open) return;
    // Home and End share one line in the help list but go to opposite ends.
    const ends: Shortcut[] = [
      { keys: ['Home'], label: 'keyFirstLast', run: () => void viewport.show(0) },
      { keys: ['End'], label: 'keyFirstLast', run: () => void viewport.show(viewport.length - 1) },
    ];
    handleShortcut(event, [...ends, ...shortcuts]);
  });

  const slider = el('input', {
    className: 'slice-slider',
    attrs: { type: 'range', min: 1, max: 1, value: 1, step: 1, 'data-testid': 'slice-slider' },
    i18nAttrs: { 'aria-label': 'sliceSlider', title: 'sliceSlider' },
    on: { input: () => void viewport.show(Number(slider.value) - 1) },
  });
  viewport.onChange(() => {
    slider.max = String(Math.max(1, viewport.length));
    slider.value = String(viewport.index + 1);
    slider.disabled = viewport.length < 2;
  });

  const overlay = viewportOverlay(viewport, () => ({ study, series: openSeries }), scope);
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
      el('button', { i18n: 'reset', attrs: { 'data-testid': 'reset', title: 'R' }, on: { click: () => viewport.reset() } }),
      el('button', { i18n: 'help', attrs: { 'data-testid': 'help-open', title: '?' }, on: { click: () => help.open() } }),
    ]),
    el('span', { className: 'group' }, orientation.buttons),
    cineUi.element,
    shareControl(app, studyUid, scope),
  ]);
  // A mouse click on a toolbar button leaves the keyboard focus where it was (on the image), so
  // the space bar still plays cine after choosing a tool; Tab still reaches every button.
  toolbar.addEventListener('mousedown', (e) => {
    if ((e.target as Element).closest('.toolbar > .group > button')) e.preventDefault();
  });
  const viewportFrame = el('div', { className: 'viewport-frame' }, [viewport.element]);
  container.replaceChildren(
    el('div', { className: 'reading', attrs: { 'data-testid': 'reading' } }, [
      toolbar,
      el('div', { className: 'reading-body' }, [
        seriesColumn,
        el('div', { className: 'viewport-column' }, [viewportFrame, slider]),
        el('aside', { className: 'side-panel' }, [
          measurementPanel(measurements, viewport, scope),
          // Saved measurements, reports and the recognition mark need an account: not on a share link.
          saving?.element,
          app.sharedLink ? null : reportPanel(app, studyUid, scope),
          app.sharedLink ? null : recognitionPanel(app, studyUid, scope),
        ]),
      ]),
      help.element,
    ]),
  );
  viewport.attach();
  viewport.element.append(overlay, probe.element);
  scope.add(() => viewport.dispose());
  scope.add(onLanguageChange(() => {
    translateTree(container);
    viewport.retranslate();
  }));

  const open = async (seriesUid: string, strip: { select(uid: string): void }, all: DicomJson[]) => {
    openSeries = all.find((s) => text(s, '0020000E') === seriesUid);
    strip.select(seriesUid);
    saving?.forgetSeries();
    measurements.clear();
    tools.cancel();
    cine.stop();
    viewport.element.dataset.seriesUid = seriesUid;
    try {
      const refs = await loadSeriesStack(app.dicomweb.client, app.dicomweb.base, studyUid, seriesUid);
      if (viewport.element.dataset.seriesUid !== seriesUid) return; // another series was chosen meanwhile
      for (const ref of refs) app.catalogue.add(ref);
      viewport.setStack(refs.map((r) => r.imageId));
      void saving?.loadFor(refs.map((r) => r.imageId));
      viewport.element.focus({ preventScroll: true });
    } catch (err) {
      if (err instanceof SessionExpired) return app.signInAgain();
      seriesColumn.append(el('p', { className: 'error', text: t('loadFailed', { reason: (err as Error).message }) }));
    }
  };

  // Thumbnails are asked for once the first image is loaded or has failed (see series-strip.ts).
  let releaseThumbnails: () => void = () => undefined;
  const firstImageLoaded = new Promise<void>((resolve) => (releaseThumbnails = resolve));
  const releaseUnlessLoading = () => {
    if (viewport.element.dataset.state !== 'loading') releaseThumbnails();
  };
  viewport.onChange(releaseUnlessLoading);

  void (async () => {
    try {
      const data = await studyLoading;
      study = data.study;
      const strip = seriesStrip(app.dicomweb.client, app.dicomweb.base, studyUid, data.series, (uid) => void open(uid, strip, data.series), scope, firstImageLoaded);
      seriesColumn.replaceChildren(el('h2', { i18n: 'series' }), strip.element);
      const first = data.series[0];
      if (first) await open(text(first, '0020000E') ?? '', strip, data.series);
      else viewport.setStack([]);
      releaseUnlessLoading();
    } catch (err) {
      if (err instanceof SessionExpired) return app.signInAgain();
      const message = el('p', { className: 'error', attrs: { role: 'alert' } });
      setText(message, 'loadFailed', { reason: (err as Error).message });
      seriesColumn.replaceChildren(message);
    }
  })();
}
