// Mouse and wheel on the viewport. The left button uses the chosen tool (window/level, pan, zoom,
// length); the right button always zooms and the middle button always pans, as in most PACS
// viewers; the wheel scrolls through the stack (with Ctrl it zooms).
import cornerstone from 'cornerstone-core';
import { measureLength, type MeasurementList, type Point } from './measurements.js';
import type { StackViewport } from './stack-viewport.js';

export type ToolName = 'windowLevel' | 'pan' | 'zoom' | 'length';

interface Drag {
  mode: ToolName;
  lastX: number;
  lastY: number;
  start?: Point;
}

export class ViewportTools {
  active: ToolName = 'windowLevel';
  /** The length being drawn, for the measurement layer. */
  draft: { start: Point; end: Point } | undefined;
  private drag: Drag | undefined;
  private wheelRest = 0;

  constructor(
    private readonly viewport: StackViewport,
    private readonly measurements: MeasurementList,
  ) {
    const element = viewport.element;
    element.addEventListener('pointerdown', (e) => this.down(e));
    element.addEventListener('pointermove', (e) => this.move(e));
    element.addEventListener('pointerup', (e) => this.up(e));
    element.addEventListener('pointercancel', () => this.cancel());
    element.addEventListener('contextmenu', (e) => e.preventDefault());
    element.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
  }

  cancel(): void {
    this.drag = undefined;
    if (this.draft) {
      this.draft = undefined;
      this.viewport.redraw();
    }
  }

  private down(e: PointerEvent): void {
    if (!this.viewport.image) return;
    const mode: ToolName = e.button === 2 ? 'zoom' : e.button === 1 ? 'pan' : this.active;
    this.viewport.element.setPointerCapture(e.pointerId);
    this.viewport.element.focus({ preventScroll: true });
    e.preventDefault();
    this.drag = { mode, lastX: e.clientX, lastY: e.clientY };
    if (mode === 'length') {
      const start = cornerstone.pageToPixel(this.viewport.element, e.pageX, e.pageY);
      this.drag.start = start;
      this.draft = { start, end: start };
    }
  }

  private move(e: PointerEvent): void {
    const drag = this.drag;
    const viewport = this.viewport.viewport();
    if (!drag || !viewport) return;
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
        if (this.draft) {
          this.draft.end = cornerstone.pageToPixel(this.viewport.element, e.pageX, e.pageY);
          this.viewport.redraw();
        }
        break;
    }
  }

  private up(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = undefined;
    if (this.viewport.element.hasPointerCapture(e.pointerId)) this.viewport.element.releasePointerCapture(e.pointerId);
    if (drag?.mode !== 'length' || !this.draft) return;
    const { start } = this.draft;
    const end = cornerstone.pageToPixel(this.viewport.element, e.pageX, e.pageY);
    this.draft = undefined;
    const image = this.viewport.image;
    const imageId = this.viewport.imageIdAt(this.viewport.index);
    const length = measureLength(start, end, image?.rowPixelSpacing, image?.columnPixelSpacing);
    // A click without a drag is no measurement.
    if (image && imageId && length.pixels >= 2) {
      this.measurements.add({ imageId, imageNumber: this.viewport.index + 1, start, end, ...length });
    }
    this.viewport.redraw();
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
      this.viewport.scrollBy(Math.sign(this.wheelRest));
      this.wheelRest = 0;
    }
  }
}

function clampScale(scale: number): number {
  return Math.min(40, Math.max(0.05, scale));
}
