// The side panel listing the session's measurements; a click on one shows its image.
import { onLanguageChange, t } from '../i18n/i18n.js';
import { clear, el } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { formatLength, type MeasurementList } from './measurements.js';
import type { StackViewport } from './stack-viewport.js';

export function measurementPanel(measurements: MeasurementList, viewport: StackViewport, scope: Scope): HTMLElement {
  const list = el('ol', { className: 'measurement-list', attrs: { 'data-testid': 'measurements' } });
  const empty = el('p', { className: 'hint', i18n: 'noMeasurements' });
  const render = () => {
    clear(list);
    empty.hidden = measurements.all().length > 0;
    for (const m of measurements.all()) {
      const value = formatLength(m);
      const item = el('li', {
        attrs: { 'data-testid': 'measurement', 'data-mm': m.millimetres?.toFixed(2), 'data-px': m.pixels.toFixed(2), 'data-image': m.imageNumber },
      }, [
        el('button', { className: 'link', text: `${t('measurementLength', { value })} · ${t('measurementOnImage', { n: m.imageNumber })}`, on: { click: () => void viewport.show(m.imageNumber - 1) } }),
        m.millimetres === undefined ? el('small', { text: t('noPixelSpacing') }) : null,
        el('button', { className: 'icon', text: '×', attrs: { title: t('deleteMeasurement'), 'aria-label': t('deleteMeasurement') }, on: { click: () => measurements.remove(m.id) } }),
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
