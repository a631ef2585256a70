// The side panel listing the session's measurements of every kind; a click on one shows its
// image, × deletes it. Each item carries its kind and values as data-* attributes (lengths:
// data-mm, data-px; angles: data-degrees; rectangles and ellipses: data-area, data-area-unit,
// data-mean, data-std, data-min, data-max, data-pixels, data-unit), for assistive technology
// and the browser tests.
import { onLanguageChange, t } from '../i18n/i18n.js';
import { clear, el } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { measurementHeadline, measurementNote, measurementStatsLines } from './measurement-text.js';
import type { Measurement, MeasurementList } from './measurements.js';
import type { StackViewport } from './stack-viewport.js';

export function measurementPanel(measurements: MeasurementList, viewport: StackViewport, scope: Scope): HTMLElement {
  const list = el('ol', { className: 'measurement-list', attrs: { 'data-testid': 'measurements' } });
  const empty = el('p', { className: 'hint', i18n: 'noMeasurements' });
  const render = () => {
    clear(list);
    empty.hidden = measurements.all().length > 0;
    for (const m of measurements.all()) {
      const note = measurementNote(m);
      const item = el('li', { attrs: { 'data-testid': 'measurement', 'data-kind': m.kind, 'data-image': m.imageNumber, ...valueAttributes(m) } }, [
        el('button', { className: 'link', text: `${measurementHeadline(m)} · ${t('measurementOnImage', { n: m.imageNumber })}`, on: { click: () => void viewport.show(m.imageNumber - 1) } }),
        ...measurementStatsLines(m).map((line) => el('small', { className: 'stats', text: line })),
        note ? el('small', { text: note }) : null,
        el('button', { className: 'icon', text: '×', attrs: { title: t('deleteMeasurement'), 'aria-label': t('deleteMeasurement'), 'data-testid': 'delete-measurement' }, on: { click: () => measurements.remove(m.id) } }),
      ]);
      list.append(item);
    }
    viewport.redraw();
  };
  measurements.onChange(render);
  scope.add(onLanguageChange(render));
  render();
  return el('section', { className: 'panel' }, [el('h2', { i18n: 'measurements' }), empty, list]);
}

function valueAttributes(m: Measurement): Record<string, string | undefined> {
  switch (m.kind) {
    case 'length':
      return { 'data-mm': m.millimetres?.toFixed(2), 'data-px': m.pixels.toFixed(2) };
    case 'angle':
      return { 'data-degrees': m.degrees.toFixed(2) };
    case 'rectangle':
    case 'ellipse':
      return {
        'data-area': m.area.value.toFixed(2),
        'data-area-unit': m.area.unit === 'mm²' ? 'mm2' : 'px2',
        'data-mean': m.stats?.mean.toFixed(2),
        'data-std': m.stats?.stdDev.toFixed(2),
        'data-min': m.stats?.min.toFixed(2),
        'data-max': m.stats?.max.toFixed(2),
        'data-pixels': m.stats?.pixels.toString(),
        'data-unit': m.unit || undefined,
      };
  }
}
