// Mouse and wheel on the viewport. The left button uses the chosen tool (window/level, pan, zoom,
// or a measuring tool, see measurement-drafting.ts; the probe tool only reads, see probe.ts);
// the right button always zooms and the middle button always pans, as in most PACS viewers; the
// wheel scrolls through the stack (with Ctrl it zooms).
import { isDrawingTool, MeasurementDrafting, type Draft } from './measurement-drafting.js';
import type { MeasurementList } from './measurements.js';
import type { StackViewport } from './stack-viewport.js';

export type ToolName = 'windowLevel' | 'pan' | 'zoom' | 'length' | 'angle' | 'rectangle' | 'ellipse' | 'probe';

interface Drag {
  mode: ToolName;
  lastX: number;
  lastY: number;
}

export class ViewportTools {
  active: ToolName = 'windowLevel';
  private readonly drafting: MeasurementDrafting;
  private drag: Drag | undefined;
  private wheelRest = 0;
  private readonly scrollListeners = new Set<() => void>();

  constructor(
    private readonly viewport: StackViewport,
    measurements: MeasurementList,
    /** The unit of an image's modality values ("HU" on CT), for ROI statistics. */
    valueUnit: (imageId: string) => string = () => '',
  ) {
    this.drafting = new MeasurementDrafting(viewport, measurements, valueUnit);
    const element = viewport.element;
    element.addEventListener('pointerdown', (e) => this.down(e));
    element.addEventListener('pointermove', (e) => this.move(e));
    element.addEventListener('pointerup', (e) => this.up(e));
    element.addEventListener('pointercancel', () => this.cancel());
    element.addEventListener('contextmenu', (e) => e.preventDefault());
    element.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
  }

  /** The measurement being drawn, for the measurement layer. */
  get draft(): Draft | undefined {
    return this.drafting.draft;
  }

  cancel(): void {
    this.drag = undefined;
    this.drafting.cancel();
  }

  private down(e: PointerEvent): void {
    if (!this.viewport.image) return;
    const mode: ToolName = e.button === 2 ? 'zoom' : e.button === 1 ? 'pan' : this.active;
    this.viewport.element.setPointerCapture(e.pointerId);
    this.viewport.element.focus({ preventScroll: true });
    e.preventDefault();
    this.drag = { mode, lastX: e.clientX, lastY: e.clientY };
    if (isDrawingTool(mode)) this.drafting.press(mode, e);
  }

  private move(e: PointerEvent): void {
    const drag = this.drag;
    const viewport = this.viewport.viewport();
    if (!viewport) return;
    // Without a button held, only an angle's free arm follows the pointer.
    if (!drag) return this.drafting.move(e);
    const dx = e.clientX - drag.lastX;
    const dy = e.clientY - drag.lastY;
    drag.lastX = e.clientX;
    drag.lastY = e.clientY;
    switch (drag.mode) {
      case 'windowLevel': {
        // A step that suits the image's value range: 1 per pixel for 8-bit, ~4 HU for CT.
        const image = this.viewport.image!;
        const span = (image.maxPixelValue - image.minPixelValue) * image.slope;
        const step = Math.max(1, span / 1024);
        this.viewport.setViewport({
          voi: { windowWidth: Math.max(1, viewport.voi.windowWidth + dx * step), windowCenter: viewport.voi.windowCenter + dy * step },
        });
        break;
      }
      case 'pan':
        this.viewport.setViewport({ translation: { x: viewport.translation.x + dx / viewport.scale, y: viewport.translation.y + dy / viewport.scale } });
        break;
      case 'zoom':
        this.viewport.setViewport({ scale: clampScale(viewport.scale * Math.exp(-dy / 150)) });
        break;
      case 'length':
      case 'angle':
      case 'rectangle':
      case 'ellipse':
        this.drafting.move(e);
        break;
      case 'probe':
        break;
    }
  }

  private up(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = undefined;
    if (this.viewport.element.hasPointerCapture(e.pointerId)) this.viewport.element.releasePointerCapture(e.pointerId);
    if (drag && isDrawingTool(drag.mode)) this.drafting.release(e);
  }

  /** Calls `listener` when the user scrolls the stack with the wheel. */
  onUserScroll(listener: () => void): void {
    this.scrollListeners.add(listener);
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const viewport = this.viewport.viewport();
    if (e.ctrlKey) {
      if (viewport) this.viewport.setViewport({ scale: clampScale(viewport.scale * Math.exp(-e.deltaY / 500)) });
      return;
    }
    // One slice per wheel notch (~100 px); touchpads send many small deltas, which add up.
    this.wheelRest += e.deltaMode === WheelEvent.DOM_DELTA_LINE ? e.deltaY * 33 : e.deltaY;
    if (Math.abs(this.wheelRest) >= 50) {
      for (const listener of this.scrollListeners) listener();
      this.viewport.scrollBy(Math.sign(this.wheelRest));
      this.wheelRest = 0;
    }
  }
}

function clampScale(scale: number): number {
  return Math.min(40, Math.max(0.05, scale));
}
