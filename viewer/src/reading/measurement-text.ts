// How a measurement reads, in the current language: one headline (its kind and main value), and
// the lines below it (ROI statistics, and a note when Pixel Spacing or greyscale was missing).
// Shared by the side panel and the labels drawn on the image, so both always say the same.
import { t } from '../i18n/i18n.js';
import { formatAngle } from './angle.js';
import { formatLength, type Measurement, type RoiMeasurement } from './measurements.js';

export function formatArea(area: RoiMeasurement['area']): string {
  return `${area.value.toFixed(1)} ${area.unit}`;
}

export function measurementHeadline(m: Measurement): string {
  switch (m.kind) {
    case 'length':
      return t('measurementLength', { value: formatLength(m) });
    case 'angle':
      return t('measurementAngle', { value: formatAngle(m.degrees) });
    case 'rectangle':
      return t('measurementRectangle', { area: formatArea(m.area) });
    case 'ellipse':
      return t('measurementEllipse', { area: formatArea(m.area) });
  }
}

/** The ROI statistics lines (none for lengths and angles). */
export function measurementStatsLines(m: Measurement): string[] {
  if (m.kind !== 'rectangle' && m.kind !== 'ellipse') return [];
  if (m.colour) return [t('noStatsOnColour')];
  if (!m.stats) return [t('noPixelsInside')];
  const value = (v: number) => `${oneDecimal(v)}${m.unit ? ` ${m.unit}` : ''}`;
  return [
    t('measurementMean', { mean: value(m.stats.mean), sd: oneDecimal(m.stats.stdDev) }),
    t('measurementRange', { min: value(m.stats.min), max: value(m.stats.max) }),
  ];
}

/** A note on how the value was taken, when it matters. */
export function measurementNote(m: Measurement): string | undefined {
  switch (m.kind) {
    case 'length':
      return m.millimetres === undefined ? t('noPixelSpacing') : undefined;
    case 'angle':
      return m.spacingUsed ? undefined : t('angleSquarePixels');
    case 'rectangle':
    case 'ellipse':
      return m.area.unit === 'px²' ? t('noPixelSpacing') : undefined;
  }
}

/** One decimal is all a reader needs of a mean or a deviation; whole values stay whole. */
function oneDecimal(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
