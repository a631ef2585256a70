// Draws the measurements of the image on screen over it, after cornerstone has rendered the
// image (so they follow zoom, pan, rotation and flips: every point goes through
// cornerstone.pixelToCanvas): lengths as a line with end marks, angles as two arms with an arc,
// rectangles and ellipses as their outline — each with its value beside it — and the one being
// drawn in another colour.
import cornerstone, { type Image, type ImageRenderedDetail } from 'cornerstone-core';
import { formatAngle, measureAngle } from './angle.js';
import type { Draft } from './measurement-drafting.js';
import { formatArea, measurementStatsLines } from './measurement-text.js';
import { formatLength, measureLength, type Measurement, type Point } from './measurements.js';
import type { StackViewport } from './stack-viewport.js';
import type { ViewportTools } from './tools.js';

const COLOUR = '#ffd400';
const DRAFT_COLOUR = '#7fd7ff';
const ELLIPSE_STEPS = 72;

export function drawMeasurements(viewport: StackViewport, measurements: { on(imageId: string): Measurement[] }, tools: ViewportTools): void {
  viewport.element.addEventListener(cornerstone.EVENTS.IMAGE_RENDERED, (event) => {
    const { canvasContext: context, image } = (event as CustomEvent<ImageRenderedDetail>).detail;
    const toCanvas = (p: Point) => cornerstone.pixelToCanvas(viewport.element, p);
    const pen = new Pen(context, toCanvas);
    context.save();
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.lineWidth = 2;
    context.font = '14px system-ui, sans-serif';
    for (const m of measurements.on(image.imageId)) drawMeasurement(pen, m, COLOUR);
    const draft = tools.draft;
    if (draft && draft.imageId === image.imageId) drawDraft(pen, draft, image, DRAFT_COLOUR);
    context.restore();
  });
}

function drawMeasurement(pen: Pen, m: Measurement, colour: string): void {
  switch (m.kind) {
    case 'length':
      pen.polyline([m.start, m.end], colour, true);
      pen.label(pen.at(m.end), [formatLength(m)], colour);
      break;
    case 'angle':
      pen.angle(m.points, colour);
      pen.label(pen.at(m.points[1]), [formatAngle(m.degrees)], colour);
      break;
    case 'rectangle':
    case 'ellipse': {
      const outline = m.kind === 'rectangle' ? rectangleOutline(m.start, m.end) : ellipseOutline(m.start, m.end);
      pen.polyline(outline, colour, false, true);
      // Rectangles are labelled at their top right, ellipses lower down their right side, so a
      // rectangle and an ellipse drawn in the same box do not write over each other.
      pen.label(m.kind === 'rectangle' ? pen.furthest(outline, 1, -0.01) : pen.furthest(outline, 1, 1), [formatArea(m.area), ...measurementStatsLines(m)], colour);
      break;
    }
  }
}

function drawDraft(pen: Pen, draft: Draft, image: Image, colour: string): void {
  switch (draft.kind) {
    case 'length':
      pen.polyline([draft.start, draft.end], colour, true);
      pen.label(pen.at(draft.end), [formatLength(measureLength(draft.start, draft.end, image.rowPixelSpacing, image.columnPixelSpacing))], colour);
      break;
    case 'angle': {
      const points = [...draft.points, draft.cursor].slice(0, 3);
      if (points.length < 3) {
        pen.polyline(points, colour, true);
        break;
      }
      pen.angle(points, colour);
      pen.label(pen.at(points[1]), [formatAngle(measureAngle(points[0], points[1], points[2], image.rowPixelSpacing, image.columnPixelSpacing).degrees)], colour);
      break;
    }
    case 'rectangle':
      pen.polyline(rectangleOutline(draft.start, draft.end), colour, false, true);
      break;
    case 'ellipse':
      pen.polyline(ellipseOutline(draft.start, draft.end), colour, false, true);
      break;
  }
}

/** The four corners, in image pixels (each corner is mapped to the canvas, so rotation is right). */
function rectangleOutline(a: Point, b: Point): Point[] {
  return [a, { x: b.x, y: a.y }, b, { x: a.x, y: b.y }];
}

/** Points along the ellipse inscribed in the box, in image pixels (right for non-square pixels too). */
function ellipseOutline(a: Point, b: Point): Point[] {
  const cx = (a.x + b.x) / 2;
  const cy = (a.y + b.y) / 2;
  const rx = Math.abs(b.x - a.x) / 2;
  const ry = Math.abs(b.y - a.y) / 2;
  return Array.from({ length: ELLIPSE_STEPS }, (_, i) => {
    const angle = (2 * Math.PI * i) / ELLIPSE_STEPS;
    return { x: cx + rx * Math.cos(angle), y: cy + ry * Math.sin(angle) };
  });
}

/** Canvas drawing in image pixel coordinates. */
class Pen {
  constructor(
    private readonly context: CanvasRenderingContext2D,
    readonly at: (p: Point) => Point,
  ) {}

  polyline(points: Point[], colour: string, endMarks = false, closed = false): void {
    const c = this.context;
    const canvas = points.map(this.at);
    c.strokeStyle = colour;
    c.fillStyle = colour;
    c.beginPath();
    canvas.forEach((p, i) => (i === 0 ? c.moveTo(p.x, p.y) : c.lineTo(p.x, p.y)));
    if (closed) c.closePath();
    c.stroke();
    if (endMarks) {
      for (const p of canvas) {
        c.beginPath();
        c.arc(p.x, p.y, 3, 0, 2 * Math.PI);
        c.fill();
      }
    }
  }

  /** Two arms from the vertex (the middle point), and a small arc between them on screen. */
  angle(points: Point[], colour: string): void {
    this.polyline(points, colour, true);
    const [a, v, b] = points.map(this.at);
    const start = Math.atan2(a.y - v.y, a.x - v.x);
    const end = Math.atan2(b.y - v.y, b.x - v.x);
    const radius = Math.min(20, Math.hypot(a.x - v.x, a.y - v.y) / 2, Math.hypot(b.x - v.x, b.y - v.y) / 2);
    let sweep = end - start;
    if (sweep > Math.PI) sweep -= 2 * Math.PI;
    if (sweep < -Math.PI) sweep += 2 * Math.PI;
    this.context.beginPath();
    this.context.arc(v.x, v.y, radius, start, start + sweep, sweep < 0);
    this.context.stroke();
  }

  /** The point of the outline (on the canvas) furthest in the screen direction (dx, dy), where its label goes. */
  furthest(points: Point[], dx: number, dy: number): Point {
    return points.map(this.at).reduce((best, p) => (p.x * dx + p.y * dy > best.x * dx + best.y * dy + 1e-6 ? p : best));
  }

  /** Text beside a canvas point, with a dark halo so it reads on bright bone and dark air. */
  label(at: Point, lines: string[], colour: string): void {
    const c = this.context;
    c.fillStyle = colour;
    lines.forEach((line, i) => {
      const x = at.x + 8;
      const y = at.y - 8 + i * 17;
      c.lineWidth = 3;
      c.strokeStyle = '#000';
      c.strokeText(line, x, y);
      c.fillText(line, x, y);
    });
    c.lineWidth = 2;
  }
}
