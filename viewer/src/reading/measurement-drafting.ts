// Drawing a measurement with the left button, for the length, angle, rectangle and ellipse
// tools: the shape being drawn (the draft, which the measurement layer paints) and, once it is
// complete, the measurement with its values added to the list. Points are taken in image pixel
// coordinates (cornerstone.pageToPixel), so zoom, pan, rotation and flips change nothing.
// Length, rectangle and ellipse: press, drag, release. Angle: three clicks (the vertex second),
// or drag the first arm and click the end of the second; the second arm follows the pointer.
import cornerstone, { type Image } from 'cornerstone-core';
import { measureAngle } from './angle.js';
import { measureLength, type MeasurementList, type Point } from './measurements.js';
import { roiArea, roiStatistics, type RoiKind } from './roi-stats.js';
import type { StackViewport } from './stack-viewport.js';

export type DrawingTool = 'length' | 'angle' | RoiKind;

export type Draft =
  | { kind: 'length' | RoiKind; imageId: string; start: Point; end: Point }
  | { kind: 'angle'; imageId: string; points: Point[]; cursor: Point };

/** The image a measurement is being added to, and its place in the stack. */
interface Target {
  image: Image;
  imageId: string;
  imageNumber: number;
}

const DRAWING_TOOLS: readonly string[] = ['length', 'angle', 'rectangle', 'ellipse'];
/** A press and release closer than this (screen pixels) is a click, not a drag. */
const CLICK_SLOP = 4;

export function isDrawingTool(name: string): name is DrawingTool {
  return DRAWING_TOOLS.includes(name);
}

export class MeasurementDrafting {
  draft: Draft | undefined;
  private pressedAt: { x: number; y: number } | undefined;

  constructor(
    private readonly viewport: StackViewport,
    private readonly measurements: MeasurementList,
    /** The unit of the modality values of an image ("HU" on CT). */
    private readonly valueUnit: (imageId: string) => string,
  ) {}

  /** The left button went down with a drawing tool. */
  press(tool: DrawingTool, e: PointerEvent): void {
    const image = this.viewport.image;
    if (!image) return;
    const point = this.pointAt(e);
    this.pressedAt = { x: e.clientX, y: e.clientY };
    const draft = this.draft;
    if (tool === 'angle') {
      if (draft?.kind === 'angle' && draft.imageId === image.imageId) {
        draft.points.push(point);
        draft.cursor = point;
        this.finishAngleIfComplete();
      } else {
        this.draft = { kind: 'angle', imageId: image.imageId, points: [point], cursor: point };
      }
    } else {
      this.draft = { kind: tool, imageId: image.imageId, start: point, end: point };
    }
    this.viewport.redraw();
  }

  /** The pointer moved: with the button held (a drag) or not (an angle's free arm follows). */
  move(e: PointerEvent): void {
    const draft = this.draft;
    if (!draft || !this.viewport.image) return;
    if (draft.kind === 'angle') draft.cursor = this.pointAt(e);
    else if (this.pressedAt) draft.end = this.pointAt(e);
    else return;
    this.viewport.redraw();
  }

  /** The left button came up. */
  release(e: PointerEvent): void {
    const draft = this.draft;
    const pressedAt = this.pressedAt;
    this.pressedAt = undefined;
    if (!draft || !pressedAt || !this.viewport.image) return;
    const end = this.pointAt(e);
    if (draft.kind === 'angle') {
      // A drag lays down an arm; a click only set the point it was pressed at.
      if (Math.hypot(e.clientX - pressedAt.x, e.clientY - pressedAt.y) >= CLICK_SLOP) {
        draft.points.push(end);
        draft.cursor = end;
        this.finishAngleIfComplete();
      }
      this.viewport.redraw();
      return;
    }
    this.draft = undefined;
    const target = this.imageFor(draft.imageId);
    if (target) {
      if (draft.kind === 'length') this.addLength(target, draft.start, end);
      else this.addRoi(target, draft.kind, draft.start, end);
    }
    this.viewport.redraw();
  }

  cancel(): void {
    this.pressedAt = undefined;
    if (this.draft) {
      this.draft = undefined;
      this.viewport.redraw();
    }
  }

  private pointAt(e: PointerEvent): Point {
    return cornerstone.pageToPixel(this.viewport.element, e.pageX, e.pageY);
  }

  /** The image on screen with its place in the stack, if it is still the one drawn on. */
  private imageFor(imageId: string): Target | undefined {
    const image = this.viewport.image;
    if (!image || image.imageId !== imageId || this.viewport.imageIdAt(this.viewport.index) !== imageId) return undefined;
    return { image, imageId, imageNumber: this.viewport.index + 1 };
  }

  private addLength(target: Target, start: Point, end: Point): void {
    const { image, imageId, imageNumber } = target;
    const length = measureLength(start, end, image.rowPixelSpacing, image.columnPixelSpacing);
    // A click without a drag is no measurement.
    if (length.pixels >= 2) this.measurements.add({ kind: 'length', imageId, imageNumber, start, end, ...length });
  }

  private addRoi(target: Target, kind: RoiKind, start: Point, end: Point): void {
    const { image, imageId, imageNumber } = target;
    if (Math.abs(end.x - start.x) < 1 || Math.abs(end.y - start.y) < 1) return;
    const shape = { kind, start, end };
    const stats = image.color ? undefined : roiStatistics(image.getPixelData(), image.width, image.height, image.slope, image.intercept, shape);
    this.measurements.add({
      kind, imageId, imageNumber, start, end,
      area: roiArea(shape, image.rowPixelSpacing, image.columnPixelSpacing),
      stats,
      colour: image.color,
      unit: image.color ? '' : this.valueUnit(imageId),
    });
  }

  private finishAngleIfComplete(): void {
    const draft = this.draft;
    if (draft?.kind !== 'angle' || draft.points.length < 3) return;
    this.draft = undefined;
    this.pressedAt = undefined;
    const [arm1, vertex, arm2] = draft.points;
    const target = this.imageFor(draft.imageId);
    // Both arms must have a length, or there is no angle.
    if (!target || Math.hypot(arm1.x - vertex.x, arm1.y - vertex.y) < 0.5 || Math.hypot(arm2.x - vertex.x, arm2.y - vertex.y) < 0.5) return;
    const { degrees, spacingUsed } = measureAngle(arm1, vertex, arm2, target.image.rowPixelSpacing, target.image.columnPixelSpacing);
    this.measurements.add({ kind: 'angle', imageId: target.imageId, imageNumber: target.imageNumber, points: [arm1, vertex, arm2], degrees, spacingUsed });
  }
}
