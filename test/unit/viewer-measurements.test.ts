// The viewer's reading tools, their pure parts in Node: angles (in mm, so non-square pixels give
// the true angle), rectangle and ellipse ROI statistics over small arrays whose answers can be
// worked out by hand (pixel centres inside, Rescale Slope/Intercept, no Pixel Spacing), the
// pixel probe, rotation and flips as seen on screen, the cine player's pacing, and the plain
// data a measurement list hands over for saving. The browser suite (viewer-tools.test.ts)
// checks the same tools on a real CT in Chromium.
import { describe, expect, it } from '@jest/globals';
import type { DicomJson } from '../../viewer/src/dicomweb/dicom-json.js';
import { measureAngle } from '../../viewer/src/reading/angle.js';
import { Cine, clampFps, type CineTarget } from '../../viewer/src/reading/cine.js';
import { formatLength, measureLength, MeasurementList } from '../../viewer/src/reading/measurements.js';
import { modalityUnit } from '../../viewer/src/reading/modality-unit.js';
import { flipped, rotated } from '../../viewer/src/reading/orientation.js';
import { formatProbeValue, probeAt } from '../../viewer/src/reading/probe-value.js';
import { roiArea, roiStatistics, type RoiShape } from '../../viewer/src/reading/roi-stats.js';

const p = (x: number, y: number) => ({ x, y });

describe('angle', () => {
  it('gives the angle at the middle point, whichever way round', () => {
    expect(measureAngle(p(10, 0), p(0, 0), p(0, 10)).degrees).toBeCloseTo(90, 10);
    expect(measureAngle(p(0, 10), p(0, 0), p(10, 0)).degrees).toBeCloseTo(90, 10);
    expect(measureAngle(p(15, 5), p(5, 5), p(15, 15)).degrees).toBeCloseTo(45, 10);
    expect(measureAngle(p(0, 0), p(5, 5), p(10, 10)).degrees).toBeCloseTo(180, 10);
    expect(measureAngle(p(10, 0), p(0, 0), p(20, 0)).degrees).toBeCloseTo(0, 10);
    expect(measureAngle(p(-1, 0), p(0, 0), p(1, Math.sqrt(3))).degrees).toBeCloseTo(120, 10);
  });

  it('works in millimetres: the same pixels make another angle when pixels are not square', () => {
    // 45° in the pixel grid; with columns 0.5 mm apart and rows 1 mm apart the arms are
    // (0.5, 0) and (0.5, 1) mm: atan(1 / 0.5) = 63.43°.
    const anisotropic = measureAngle(p(1, 0), p(0, 0), p(1, 1), 1, 0.5);
    expect(anisotropic.degrees).toBeCloseTo((Math.atan2(1, 0.5) * 180) / Math.PI, 10);
    expect(anisotropic.degrees).toBeCloseTo(63.435, 3);
    expect(anisotropic.spacingUsed).toBe(true);
    // Rows 0.5 mm apart, columns 1 mm: (1, 0) and (1, 0.5) mm: 26.57°.
    expect(measureAngle(p(1, 0), p(0, 0), p(1, 1), 0.5, 1).degrees).toBeCloseTo(26.565, 3);
    // A right angle between axis-aligned arms stays right whatever the spacing.
    expect(measureAngle(p(7, 3), p(3, 3), p(3, 9), 0.3, 2).degrees).toBeCloseTo(90, 10);
    // Equal spacing changes nothing.
    expect(measureAngle(p(1, 0), p(0, 0), p(1, 1), 0.703125, 0.703125).degrees).toBeCloseTo(45, 10);
  });

  it('takes the pixels as square without Pixel Spacing, and says so', () => {
    expect(measureAngle(p(1, 0), p(0, 0), p(1, 1))).toEqual({ degrees: expect.closeTo(45, 10), spacingUsed: false });
    expect(measureAngle(p(1, 0), p(0, 0), p(1, 1), undefined, 0.5).spacingUsed).toBe(false);
  });
});

describe('ROI statistics', () => {
  // 4 columns × 3 rows:
  //    1  2  3  4
  //    5  6  7  8
  //    9 10 11 12
  const grid = Int16Array.from({ length: 12 }, (_, i) => i + 1);
  const rect = (x0: number, y0: number, x1: number, y1: number): RoiShape => ({ kind: 'rectangle', start: p(x0, y0), end: p(x1, y1) });

  it('takes the pixels whose centres are inside a rectangle: mean, population SD, min, max', () => {
    // Corners (1, 0) and (3, 2): centres x = 1.5, 2.5 and y = 0.5, 1.5 → 2, 3, 6, 7.
    const stats = roiStatistics(grid, 4, 3, 1, 0, rect(1, 0, 3, 2))!;
    expect(stats.pixels).toBe(4);
    expect(stats.mean).toBeCloseTo(4.5, 12);
    // Deviations ±1.5, ±2.5: (2.25 + 2.25 + 6.25 + 6.25) / 4 = 4.25.
    expect(stats.stdDev).toBeCloseTo(Math.sqrt(4.25), 12);
    expect([stats.min, stats.max]).toEqual([2, 7]);
    // Drawn the other way round: the same region.
    expect(roiStatistics(grid, 4, 3, 1, 0, rect(3, 2, 1, 0))).toEqual(stats);
  });

  it('counts a pixel only when its centre is inside, and clips to the image', () => {
    // x from 0.6 to 2.4 holds only the centre 1.5; y from 0.6 to 2.9 holds 1.5 and 2.5 → 6 and 10.
    expect(roiStatistics(grid, 4, 3, 1, 0, rect(0.6, 0.6, 2.4, 2.9))).toMatchObject({ pixels: 2, mean: 8, min: 6, max: 10, stdDev: 2 });
    // Far beyond the image on every side: all twelve pixels, 1…12.
    expect(roiStatistics(grid, 4, 3, 1, 0, rect(-5, -5, 10, 10))).toMatchObject({ pixels: 12, mean: 6.5, min: 1, max: 12 });
    expect(roiStatistics(grid, 4, 3, 1, 0, rect(-5, -5, 10, 10))!.stdDev).toBeCloseTo(Math.sqrt((12 * 12 - 1) / 12), 12);
    // No centre inside (between centres, or off the image): no statistics.
    expect(roiStatistics(grid, 4, 3, 1, 0, rect(1.6, 0, 2.4, 3))).toBeUndefined();
    expect(roiStatistics(grid, 4, 3, 1, 0, rect(5, 5, 9, 9))).toBeUndefined();
  });

  it('gives modality values: stored × slope + intercept (HU on CT)', () => {
    // Stored 2, 3, 6, 7 with slope 2 and intercept -1024 → -1020, -1018, -1012, -1010.
    const stats = roiStatistics(grid, 4, 3, 2, -1024, rect(1, 0, 3, 2))!;
    expect(stats.mean).toBeCloseTo(-1015, 10);
    expect(stats.stdDev).toBeCloseTo(2 * Math.sqrt(4.25), 10);
    expect([stats.min, stats.max]).toEqual([-1020, -1010]);
    // A negative slope turns the order round: min comes from the largest stored value.
    const negative = roiStatistics(grid, 4, 3, -1, 100, rect(1, 0, 3, 2))!;
    expect([negative.min, negative.max, negative.mean]).toEqual([93, 98, 95.5]);
    // Typical CT: stored 24 with intercept -1024 is air, -1000 HU.
    expect(roiStatistics(new Uint16Array([24, 24, 24, 24]), 2, 2, 1, -1024, rect(0, 0, 2, 2))).toEqual({ pixels: 4, mean: -1000, stdDev: 0, min: -1000, max: -1000 });
  });

  it('takes the pixels whose centres lie inside an ellipse', () => {
    // 5 × 5 pixels holding 0…24, the ellipse inscribed in the whole image (a circle of radius
    // 2.5 about the centre): every centre is inside but the four corners' ((±2)² + (±2)² = 8 > 6.25).
    const values = Float32Array.from({ length: 25 }, (_, i) => i);
    const stats = roiStatistics(values, 5, 5, 1, 0, { kind: 'ellipse', start: p(0, 0), end: p(5, 5) })!;
    expect(stats.pixels).toBe(21);
    // (0 + … + 24 − (0 + 4 + 20 + 24)) / 21 = (300 − 48) / 21 = 12.
    expect(stats.mean).toBeCloseTo(12, 10);
    expect([stats.min, stats.max]).toEqual([1, 23]);
    // A flat ellipse over the middle row (y from 2.2 to 2.8, x from 0 to 5): row 2's five
    // centres lie on its long axis → 10…14.
    expect(roiStatistics(values, 5, 5, 1, 0, { kind: 'ellipse', start: p(0, 2.2), end: p(5, 2.8) })).toMatchObject({ pixels: 5, mean: 12, min: 10, max: 14 });
    // x from 1.9 to 3.1 around column 2 only: a narrow one down the middle → 2, 7, 12, 17, 22.
    expect(roiStatistics(values, 5, 5, 1, 0, { kind: 'ellipse', start: p(1.9, 0), end: p(3.1, 5) })).toMatchObject({ pixels: 5, mean: 12, min: 2, max: 22 });
    // Degenerate: no width.
    expect(roiStatistics(values, 5, 5, 1, 0, { kind: 'ellipse', start: p(2, 0), end: p(2, 5) })).toBeUndefined();
  });

  it('gives the area in mm² from Pixel Spacing, in px² without it; an ellipse is π/4 of its box', () => {
    // 10 columns 0.5 mm apart × 4 rows 0.25 mm apart = 5 mm × 1 mm.
    expect(roiArea(rect(2, 3, 12, 7), 0.25, 0.5)).toEqual({ value: 5, unit: 'mm²' });
    expect(roiArea({ kind: 'ellipse', start: p(2, 3), end: p(12, 7) }, 0.25, 0.5).value).toBeCloseTo((5 * Math.PI) / 4, 12);
    expect(roiArea(rect(12, 7, 2, 3))).toEqual({ value: 40, unit: 'px²' });
    expect(roiArea({ kind: 'ellipse', start: p(0, 0), end: p(10, 4) }).value).toBeCloseTo(10 * Math.PI, 12);
    // The CT's spacing: 100 × 100 pixels of 0.703125 mm.
    expect(roiArea(rect(0, 0, 100, 100), 0.703125, 0.703125).value).toBeCloseTo(4943.847656, 5);
  });
});

describe('pixel value probe', () => {
  const grey = { width: 3, height: 2, color: false, slope: 1, intercept: -1024, getPixelData: () => Int16Array.of(0, 24, 1024, 1100, 2048, 3000) };

  it('reads the pixel under a point: column, row and modality value', () => {
    expect(probeAt(grey, p(1.9, 0.2))).toEqual({ column: 1, row: 0, kind: 'grey', value: -1000 });
    expect(probeAt(grey, p(0, 1.999))).toEqual({ column: 0, row: 1, kind: 'grey', value: 76 });
    expect(probeAt({ ...grey, slope: 0.5, intercept: 10 }, p(2.5, 1.5))).toMatchObject({ value: 1510 });
    expect(formatProbeValue(probeAt(grey, p(1, 0))!, 'HU')).toBe('-1000 HU');
    expect(formatProbeValue({ column: 0, row: 0, kind: 'grey', value: 3.14159 }, '')).toBe('3.14');
  });

  it('answers nothing off the image', () => {
    for (const point of [p(-0.01, 0), p(3, 0), p(0, 2), p(1, -3)]) expect(probeAt(grey, point)).toBeUndefined();
  });

  it('reads red, green and blue on a colour image (four values per pixel)', () => {
    const colour = { width: 2, height: 1, color: true, slope: 1, intercept: 0, getPixelData: () => Uint8Array.of(255, 0, 0, 255, 10, 20, 30, 255) };
    const reading = probeAt(colour, p(1.2, 0.7))!;
    expect(reading).toEqual({ column: 1, row: 0, kind: 'rgb', red: 10, green: 20, blue: 30 });
    expect(formatProbeValue(reading, 'HU')).toBe('R 10 G 20 B 30');
  });

  it('names HU for CT, the Rescale Type when the header gives one, and nothing otherwise', () => {
    const ds = (modality: string, rescaleType?: string): DicomJson => ({
      '00080060': { vr: 'CS', Value: [modality] },
      ...(rescaleType ? { '00281054': { vr: 'LO', Value: [rescaleType] } } : {}),
    });
    expect(modalityUnit(ds('CT'))).toBe('HU');
    expect(modalityUnit(ds('CT', 'US'))).toBe('HU');
    expect(modalityUnit(ds('MR'))).toBe('');
    expect(modalityUnit(ds('PT', 'BQML'))).toBe('BQML');
    expect(modalityUnit(undefined)).toBe('');
  });
});

describe('rotation and flips as seen on screen', () => {
  const upright = { rotation: 0, hflip: false, vflip: false };

  it('turns a quarter at a time and comes back round', () => {
    expect(rotated(upright, 'right').rotation).toBe(90);
    expect(rotated(upright, 'left').rotation).toBe(270);
    expect(rotated(rotated(upright, 'right'), 'left')).toEqual(upright);
    let o = upright;
    for (let i = 0; i < 4; i++) o = rotated(o, 'right');
    expect(o).toEqual(upright);
  });

  it('flips the screen axis asked for: after a quarter turn that is the image’s other axis', () => {
    expect(flipped(upright, 'horizontal')).toEqual({ rotation: 0, hflip: true, vflip: false });
    expect(flipped(upright, 'vertical')).toEqual({ rotation: 0, hflip: false, vflip: true });
    expect(flipped({ ...upright, rotation: 90 }, 'horizontal')).toEqual({ rotation: 90, hflip: false, vflip: true });
    expect(flipped({ ...upright, rotation: 270 }, 'vertical')).toEqual({ rotation: 270, hflip: true, vflip: false });
    expect(flipped({ ...upright, rotation: 180 }, 'horizontal')).toEqual({ rotation: 180, hflip: true, vflip: false });
    expect(flipped(flipped(upright, 'horizontal'), 'horizontal')).toEqual(upright);
  });
});

describe('cine', () => {
  /** A stack of `length` slices whose slices settle only when the test says so. */
  function fakeStack(length: number) {
    const listeners: (() => void)[] = [];
    const shown: number[] = [];
    const stack = {
      index: 0,
      length,
      ready: true,
      settled: () => stack.ready,
      show: async (i: number) => {
        stack.index = i;
        stack.ready = false;
        shown.push(i);
        for (const l of listeners) l();
      },
      onChange: (l: () => void) => void listeners.push(l),
      scrollTo(i: number) {
        stack.index = i;
        for (const l of listeners) l();
      },
    };
    return { stack: stack as typeof stack & CineTarget, shown };
  }
  const manualTimers = () => {
    const timer = { ms: 0, running: false, every: (ms: number) => ((timer.ms = ms), (timer.running = true), () => void (timer.running = false)) };
    return timer;
  };

  it('moves on one slice a tick, looping, and drops ticks while a slice is not yet on screen', () => {
    const { stack, shown } = fakeStack(3);
    const timers = manualTimers();
    const cine = new Cine(stack, timers);
    cine.play();
    expect(cine.playing).toBe(true);
    expect(timers.ms).toBeCloseTo(1000 / 15);
    cine.tick();
    cine.tick(); // slice 1 not drawn yet: dropped
    cine.tick();
    expect(shown).toEqual([1]);
    stack.ready = true;
    cine.tick();
    stack.ready = true;
    cine.tick();
    stack.ready = true;
    cine.tick();
    expect(shown).toEqual([1, 2, 0, 1]);
    expect(cine.playing).toBe(true);
  });

  it('stops when someone else changes the slice, and when asked', () => {
    const { stack, shown } = fakeStack(5);
    const timers = manualTimers();
    const cine = new Cine(stack, timers);
    cine.play();
    cine.tick();
    stack.scrollTo(4);
    expect(cine.playing).toBe(false);
    expect(timers.running).toBe(false);
    stack.ready = true;
    cine.tick();
    expect(shown).toEqual([1]);
    cine.toggle();
    expect(cine.playing).toBe(true);
    cine.toggle();
    expect(cine.playing).toBe(false);
  });

  it('keeps the rate between 1 and 60 frames per second, and does not play a single slice', () => {
    expect([clampFps(0), clampFps(15), clampFps(60), clampFps(500), clampFps(7.6), clampFps(Number.NaN)]).toEqual([1, 15, 60, 60, 8, 15]);
    const timers = manualTimers();
    const cine = new Cine(fakeStack(5).stack, timers);
    cine.fps = 120;
    expect(cine.fps).toBe(60);
    cine.play();
    expect(timers.ms).toBeCloseTo(1000 / 60);
    const single = new Cine(fakeStack(1).stack, manualTimers());
    single.play();
    expect(single.playing).toBe(false);
  });
});

describe('measurement list', () => {
  it('holds every kind and hands them over as plain data with units', () => {
    const list = new MeasurementList();
    const length = measureLength(p(0, 0), p(30, 40), 0.5, 0.5);
    expect(formatLength(length)).toBe('25.0 mm');
    list.add({ kind: 'length', imageId: 'suhe:a', imageNumber: 1, start: p(0, 0), end: p(30, 40), ...length });
    list.add({ kind: 'angle', imageId: 'suhe:a', imageNumber: 1, points: [p(10, 0), p(0, 0), p(0, 10)], degrees: 90, spacingUsed: true });
    const shape: RoiShape = { kind: 'ellipse', start: p(0, 0), end: p(4, 2) };
    list.add({ kind: 'ellipse', imageId: 'suhe:b', imageNumber: 2, start: shape.start, end: shape.end, area: roiArea(shape), stats: { pixels: 6, mean: -1000, stdDev: 1, min: -1002, max: -998 }, colour: false, unit: 'HU' });
    list.add({ kind: 'rectangle', imageId: 'suhe:c', imageNumber: 3, start: p(0, 0), end: p(2, 2), area: { value: 4, unit: 'px²' }, colour: true, unit: '' });
    expect(list.all().map((m) => m.kind)).toEqual(['length', 'angle', 'ellipse', 'rectangle']);
    expect(list.on('suhe:a')).toHaveLength(2);

    const records = list.records();
    expect(records[0]).toEqual({ kind: 'length', imageId: 'suhe:a', imageNumber: 1, points: [p(0, 0), p(30, 40)], values: [{ name: 'length', value: 25, unit: 'mm' }] });
    expect(records[1].values).toEqual([{ name: 'angle', value: 90, unit: 'deg' }]);
    expect(records[1].points).toEqual([p(10, 0), p(0, 0), p(0, 10)]);
    expect(records[2].values).toEqual([
      { name: 'area', value: expect.closeTo(2 * Math.PI, 10), unit: 'px2' },
      { name: 'mean', value: -1000, unit: "[hnsf'U]" },
      { name: 'stdDev', value: 1, unit: "[hnsf'U]" },
      { name: 'min', value: -1002, unit: "[hnsf'U]" },
      { name: 'max', value: -998, unit: "[hnsf'U]" },
      { name: 'pixelCount', value: 6, unit: '1' },
    ]);
    // Colour: the area only.
    expect(records[3].values).toEqual([{ name: 'area', value: 4, unit: 'px2' }]);
    // Plain copies: JSON round-trips unchanged, and editing them leaves the list alone.
    expect(JSON.parse(JSON.stringify(records))).toEqual(records);
    records[1].points[0].x = 999;
    expect(list.records()[1].points[0].x).toBe(10);

    list.remove(list.all()[0].id);
    expect(list.records().map((r) => r.kind)).toEqual(['angle', 'ellipse', 'rectangle']);
  });
});
