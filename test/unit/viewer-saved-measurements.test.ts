// Measurements saved to the study and drawn again: the viewer's conversions between a measurement
// drawn here and the hub's form of it (instance, frame, points, values), and back onto the open
// series by SOP Instance UID and frame — values as saved, never recomputed.
import { describe, expect, it } from '@jest/globals';
import { MeasurementList, type MeasurementRecord } from '../../viewer/src/reading/measurements.js';
import { fromApiMeasurement, locatorFor, toApiMeasurement } from '../../viewer/src/report/saved-measurements.js';

const BASE = 'suhe:http://127.0.0.1:1/dicomweb/studies/1.2.3/series/1.2.3.4/instances';
const imageIds = [`${BASE}/1.2.3.4.10/frames/1`, `${BASE}/1.2.3.4.11/frames/1`, `${BASE}/1.2.3.4.12/frames/2`];

describe('saved measurements', () => {
  it('sends a drawn measurement as instance, frame, points and values', () => {
    const record: MeasurementRecord = { kind: 'length', imageId: imageIds[2], imageNumber: 3, points: [{ x: 1, y: 2 }, { x: 4, y: 6 }], values: [{ name: 'length', value: 3.5, unit: 'mm' }] };
    expect(toApiMeasurement(record)).toEqual({ kind: 'length', seriesUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.12', frame: 2, points: record.points, values: record.values });
    expect(toApiMeasurement({ ...record, imageId: 'suhe:somewhere/else' })).toBeUndefined();
  });

  it('finds a saved measurement\'s image in the open stack by instance and frame, or not at all', () => {
    const locate = locatorFor(imageIds);
    expect(locate('1.2.3.4.11', 1)).toEqual({ imageId: imageIds[1], imageNumber: 2 });
    expect(locate('1.2.3.4.12', 1)).toBeUndefined();
    expect(locate('9.9', 1)).toBeUndefined();
  });

  it('a round trip keeps every kind with its values; a region keeps its statistics and HU', () => {
    const list = new MeasurementList();
    list.add({ kind: 'length', imageId: imageIds[0], imageNumber: 1, start: { x: 0, y: 0 }, end: { x: 30, y: 40 }, millimetres: 35.15, pixels: 50 });
    list.add({ kind: 'angle', imageId: imageIds[1], imageNumber: 2, points: [{ x: 1, y: 0 }, { x: 0, y: 0 }, { x: 0, y: 1 }], degrees: 90, spacingUsed: true });
    list.add({ kind: 'ellipse', imageId: imageIds[2], imageNumber: 3, start: { x: 0, y: 0 }, end: { x: 10, y: 10 }, area: { value: 38.8, unit: 'mm²' }, stats: { pixels: 80, mean: -998, stdDev: 3, min: -1010, max: -990 }, colour: false, unit: 'HU' });
    list.add({ kind: 'rectangle', imageId: imageIds[0], imageNumber: 1, start: { x: 0, y: 0 }, end: { x: 4, y: 4 }, area: { value: 16, unit: 'px²' }, colour: true, unit: '' });
    const locate = locatorFor(imageIds);
    const back = list.records().map((r) => fromApiMeasurement({ ...toApiMeasurement(r)!, id: 'x' }, locate));
    const again = new MeasurementList();
    for (const m of back) again.add(m!);
    expect(again.records()).toEqual(list.records());
  });

  it('a length saved in pixels (no Pixel Spacing) stays in pixels', () => {
    const drawn = fromApiMeasurement({ kind: 'length', seriesUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.10', frame: 1, points: [{ x: 0, y: 0 }, { x: 3, y: 4 }], values: [{ name: 'length', value: 5, unit: 'px' }] }, locatorFor(imageIds));
    expect(drawn).toMatchObject({ kind: 'length', pixels: 5, imageNumber: 1 });
    expect(drawn && 'millimetres' in drawn).toBe(false);
  });
});
