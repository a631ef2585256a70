// The pixel value probe: while the probe tool is chosen and the pointer is over the image, a
// small label at the bottom of the viewport gives the pixel's column and row and its value (the
// modality value with its unit, HU on CT; R G B on colour). It is read again after every render,
// so scrolling under a still pointer updates it. data-testid="probe" with data-column, data-row
// and data-value (or data-red/-green/-blue) is what the browser tests read.
import cornerstone from 'cornerstone-core';
import { onLanguageChange, t } from '../i18n/i18n.js';
import { el } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { formatProbeValue, probeAt } from './probe-value.js';
import type { StackViewport } from './stack-viewport.js';

export function pixelProbe(viewport: StackViewport, isActive: () => boolean, valueUnit: (imageId: string) => string, scope: Scope): { element: HTMLElement; refresh(): void } {
  const label = el('div', { className: 'probe-label', attrs: { 'data-testid': 'probe', 'aria-live': 'off', hidden: true } });
  let pointer: { pageX: number; pageY: number } | undefined;

  const hide = () => {
    label.hidden = true;
    for (const key of ['column', 'row', 'value', 'unit', 'red', 'green', 'blue']) delete label.dataset[key];
  };
  const update = () => {
    const image = viewport.image;
    if (!pointer || !image || !isActive()) return hide();
    const reading = probeAt(image, cornerstone.pageToPixel(viewport.element, pointer.pageX, pointer.pageY));
    if (!reading) return hide();
    const unit = reading.kind === 'grey' ? valueUnit(image.imageId) : '';
    hide();
    label.dataset.column = String(reading.column);
    label.dataset.row = String(reading.row);
    if (reading.kind === 'grey') {
      label.dataset.value = String(reading.value);
      label.dataset.unit = unit;
    } else {
      label.dataset.red = String(reading.red);
      label.dataset.green = String(reading.green);
      label.dataset.blue = String(reading.blue);
    }
    label.textContent = t('probeReading', { column: reading.column, row: reading.row, value: formatProbeValue(reading, unit) });
    label.hidden = false;
  };

  viewport.element.addEventListener('pointermove', (e) => {
    pointer = { pageX: e.pageX, pageY: e.pageY };
    update();
  });
  viewport.element.addEventListener('pointerleave', () => {
    pointer = undefined;
    hide();
  });
  viewport.element.addEventListener(cornerstone.EVENTS.IMAGE_RENDERED, update);
  scope.add(onLanguageChange(update));
  return { element: label, refresh: update };
}
