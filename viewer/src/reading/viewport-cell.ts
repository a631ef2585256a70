// One place of the reading layout (1×1, 1×2 or 2×2): a stack viewport with everything that
// belongs to it alone — its series, its measurements (drawn, listed, saved), the mouse tools,
// the pixel probe, cine, the corner overlay and the slice slider. The toolbar and the keys act
// on the active cell; a click in a cell makes it active.
import type { AppContext } from '../app-context.js';
import { SessionExpired } from '../auth/session.js';
import { text, type DicomJson } from '../dicomweb/dicom-json.js';
import { measurementSaving, type MeasurementSaving } from '../report/measurement-saving.js';
import { loadSeriesStack } from '../study/study-data.js';
import { el } from '../ui/dom.js';
import { Scope } from '../ui/scope.js';
import { Cine } from './cine.js';
import { drawMeasurements } from './measurement-layer.js';
import { measurementPanel } from './measurement-panel.js';
import { MeasurementList } from './measurements.js';
import { modalityUnit } from './modality-unit.js';
import { viewportOverlay } from './overlay.js';
import { pixelProbe } from './probe.js';
import { StackViewport } from './stack-viewport.js';
import { ViewportTools, type ToolName } from './tools.js';

export class ViewportCell {
  readonly viewport: StackViewport;
  readonly measurements = new MeasurementList();
  readonly tools: ViewportTools;
  readonly cine: Cine;
  /** The frame with the viewport and its slider, placed in the layout grid. */
  readonly element: HTMLElement;
  /** This cell's part of the side panel: its measurements (and saving them). */
  readonly panel: HTMLElement;
  series: DicomJson | undefined;
  private readonly saving: MeasurementSaving | undefined;
  private readonly probe: { element: HTMLElement; refresh(): void };
  private readonly overlay: HTMLElement;
  private readonly scope = new Scope();

  constructor(
    private readonly app: AppContext,
    private readonly studyUid: string,
    study: () => DicomJson,
    onActivate: (cell: ViewportCell) => void,
  ) {
    this.viewport = new StackViewport(() => app.signInAgain());
    const valueUnit = (imageId: string) => modalityUnit(app.catalogue.get(imageId)?.metadata);
    this.tools = new ViewportTools(this.viewport, this.measurements, valueUnit);
    drawMeasurements(this.viewport, this.measurements, this.tools);
    this.probe = pixelProbe(this.viewport, () => this.tools.active === 'probe', valueUnit, this.scope);
    this.cine = new Cine(this.viewport);
    this.tools.onUserScroll(() => this.cine.stop());
    this.saving = app.sharedLink ? undefined : measurementSaving(app, studyUid, this.measurements, this.scope);
    this.panel = el('div', { className: 'cell-panel' }, [measurementPanel(this.measurements, this.viewport, this.scope), this.saving?.element]);

    const slider = el('input', {
      className: 'slice-slider',
      attrs: { type: 'range', min: 1, max: 1, value: 1, step: 1, 'data-testid': 'slice-slider' },
      i18nAttrs: { 'aria-label': 'sliceSlider', title: 'sliceSlider' },
      on: { input: () => void this.viewport.show(Number(slider.value) - 1) },
    });
    this.viewport.onChange(() => {
      slider.max = String(Math.max(1, this.viewport.length));
      slider.value = String(this.viewport.index + 1);
      slider.disabled = this.viewport.length < 2;
    });
    this.element = el('div', { className: 'viewport-cell' }, [el('div', { className: 'viewport-frame' }, [this.viewport.element]), slider]);
    this.element.addEventListener('pointerdown', () => onActivate(this), { capture: true });
    this.element.addEventListener('focusin', () => onActivate(this));
    this.overlay = viewportOverlay(this.viewport, () => ({ study: study(), series: this.series }), this.scope);
  }

  /** Call once the element is in the document. */
  attach(): void {
    this.viewport.attach();
    this.viewport.element.append(this.overlay, this.probe.element);
  }

  dispose(): void {
    this.cine.stop();
    this.scope.dispose();
    this.viewport.dispose();
    this.element.remove();
  }

  setActive(active: boolean): void {
    this.element.classList.toggle('active', active);
    this.element.dataset.active = String(active);
  }

  useTool(name: ToolName): void {
    this.tools.cancel();
    this.tools.active = name;
    this.probe.refresh();
  }

  retranslate(): void {
    this.viewport.retranslate();
  }

  /** Shows a series of the study in this cell; its measurements are those saved on it. */
  async open(series: DicomJson, onError: (message: string) => void): Promise<void> {
    const seriesUid = text(series, '0020000E') ?? '';
    this.series = series;
    this.saving?.forgetSeries();
    this.measurements.clear();
    this.tools.cancel();
    this.cine.stop();
    this.viewport.element.dataset.seriesUid = seriesUid;
    try {
      const refs = await loadSeriesStack(this.app.dicomweb.client, this.app.dicomweb.base, this.studyUid, seriesUid);
      if (this.viewport.element.dataset.seriesUid !== seriesUid) return; // another series was chosen meanwhile
      for (const ref of refs) this.app.catalogue.add(ref);
      this.viewport.setStack(refs.map((r) => r.imageId));
      void this.saving?.loadFor(refs.map((r) => r.imageId));
    } catch (err) {
      if (err instanceof SessionExpired) return this.app.signInAgain();
      onError((err as Error).message);
    }
  }
}
