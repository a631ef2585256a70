// Draws the length measurements of the image on screen over it, after cornerstone has rendered
// the image (so they follow zoom and pan): a line, its end marks, and the length beside it.
import cornerstone, { type ImageRenderedDetail } from 'cornerstone-core';
import { formatLength, measureLength, type MeasurementList, type Point } from './measurements.js';
import type { StackViewport } from './stack-viewport.js';
import type { ViewportTools } from './tools.js';

const COLOUR = '#ffd400';
const DRAFT_COLOUR = '#7fd7ff';

export function drawMeasurements(viewport: StackViewport, measurements: MeasurementList, tools: ViewportTools): void {
  viewport.element.addEventListener(cornerstone.EVENTS.IMAGE_RENDERED, (event) => {
    const { canvasContext: context, image } = (event as CustomEvent<ImageRenderedDetail>).detail;
    const imageId = image.imageId;
    context.save();
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.lineWidth = 2;
    context.font = '14px system-ui, sans-serif';
    for (const m of measurements.on(imageId)) line(viewport.element, context, m.start, m.end, formatLength(m), COLOUR);
    const draft = tools.draft;
    if (draft && viewport.imageIdAt(viewport.index) === imageId) {
      line(viewport.element, context, draft.start, draft.end, formatLength(measureLength(draft.start, draft.end, image.rowPixelSpacing, image.columnPixelSpacing)), DRAFT_COLOUR);
    }
    context.restore();
  });
}

function line(element: HTMLElement, context: CanvasRenderingContext2D, start: Point, end: Point, label: string, colour: string): void {
  const a = cornerstone.pixelToCanvas(element, start);
  const b = cornerstone.pixelToCanvas(element, end);
  context.strokeStyle = colour;
  context.fillStyle = colour;
  context.beginPath();
  context.moveTo(a.x, a.y);
  context.lineTo(b.x, b.y);
  context.stroke();
  for (const p of [a, b]) {
    context.beginPath();
    context.arc(p.x, p.y, 3, 0, 2 * Math.PI);
    context.fill();
  }
  // The label beside the end point, with a dark halo so it reads on bright bone and dark air.
  const x = b.x + 8;
  const y = b.y - 8;
  context.lineWidth = 3;
  context.strokeStyle = '#000';
  context.strokeText(label, x, y);
  context.fillText(label, x, y);
  context.lineWidth = 2;
}
