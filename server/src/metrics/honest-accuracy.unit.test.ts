import { describe, expect, it } from 'vitest';
import { confusionIntervals, reliability } from '../ml/estimation.js';
import type { StratumRow } from './accuracy.repository.js';
import { MIN_AUDITED_FOR_CALIBRATION, honestAccuracy } from './honest-accuracy.js';

const row = (r: Partial<StratumRow>): StratumRow => ({
  versionId: 1,
  label: 'legit',
  bucket: 7,
  requested: false,
  predictions: 0,
  labelled: 0,
  correct: 0,
  ...r,
});

describe(honestAccuracy.name, () => {
  it('reweights each stratum by its share of all predictions, not of the labelled ones', () => {
    // Sure legit predictions: 900 made, 10 labelled, all right. Unsure fraud ones: 100 made, all labelled, half right.
    const window = [row({ predictions: 900, labelled: 10, correct: 10 }), row({ label: 'fraud', bucket: 0, predictions: 100, labelled: 100, correct: 50 })];
    const sut = honestAccuracy(window, window);
    expect(sut.labelledShare).toBeCloseTo(110 / 1000, 12);
    // Raw accuracy over the labels would be 60 / 110 = 0.545; all predictions: 0.9 · 1 + 0.1 · 0.5.
    expect(sut.corrected!.value).toBeCloseTo(0.95, 12);
    expect(sut.corrected!.interval.lower).toBeLessThan(0.95);
    expect(sut.corrected!.interval.upper).toBeGreaterThan(0.95);
    expect(sut.audit).toEqual({ requested: 0, labelled: 0, accuracy: null, interval: null });
    // The 890 unlabelled are all sure legit ones: estimated from their stratum's labels.
    expect(sut.unlabelled).toBe(890);
    expect(sut.estimated!.value).toBeCloseTo(1, 12);
    expect(sut.calibrationSource).toBe('labelled');
  });

  it('takes the audited labels alone for calibration once there are enough of them', () => {
    const window = [
      row({ predictions: 1000, labelled: 500, correct: 100 }), // complaints: mostly wrong
      row({ requested: true, predictions: MIN_AUDITED_FOR_CALIBRATION, labelled: MIN_AUDITED_FOR_CALIBRATION, correct: 90 }),
    ];
    const sut = honestAccuracy(window, window);
    expect(sut.calibrationSource).toBe('audited');
    expect(sut.estimated!.value).toBeCloseTo(0.9, 12);
    expect(sut.audit.accuracy).toBeCloseTo(0.9, 12);
    expect(sut.audit.interval!.lower).toBeLessThan(0.9);
  });

  it('says nothing rather than NaN when there is nothing to say', () => {
    const sut = honestAccuracy([], []);
    expect(sut).toMatchObject({ predictions: 0, labelledShare: null, corrected: null, estimated: null, calibrationSource: null });
    const unlabelled = honestAccuracy([row({ predictions: 10 })], []);
    expect(unlabelled.corrected).toBeNull();
    expect(unlabelled.estimated).toBeNull();
    expect(unlabelled.labelledShare).toBe(0);
  });

  it('widens the corrected interval to anything for strata nobody labelled', () => {
    const sut = honestAccuracy([row({ predictions: 500, labelled: 500, correct: 500 }), row({ versionId: 2, predictions: 500 })], []);
    expect(sut.corrected!.value).toBe(1);
    expect(sut.corrected!.interval.lower).toBeCloseTo(0.5, 12);
    expect(sut.corrected!.interval.upper).toBe(1);
  });
});

describe(confusionIntervals.name, () => {
  it('holds each figure, and F1 through the Jaccard index', () => {
    const c = { tp: 40, fp: 10, fn: 20, tn: 30 };
    const sut = confusionIntervals(c);
    const f1 = 80 / 110;
    expect(sut.f1!.lower).toBeLessThan(f1);
    expect(sut.f1!.upper).toBeGreaterThan(f1);
    expect(sut.accuracy!.lower).toBeLessThan(0.7);
    expect(confusionIntervals({ tp: 0, fp: 0, fn: 0, tn: 5 })).toMatchObject({ precision: null, recall: null, f1: null });
  });

  it('covers the true F1 about 95% of the time (2,000 draws of 300 rows)', () => {
    // mulberry32, so the figure is reproducible.
    let state = 7;
    const rng = () => {
      let t = (state = (state + 0x6d2b79f5) | 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const cells = { tp: 0.15, fp: 0.05, fn: 0.1, tn: 0.7 };
    const trueF1 = (2 * cells.tp) / (2 * cells.tp + cells.fp + cells.fn);
    let hits = 0;
    for (let i = 0; i < 2000; i++) {
      const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
      for (let j = 0; j < 300; j++) {
        const u = rng();
        if (u < cells.tp) c.tp++;
        else if (u < cells.tp + cells.fp) c.fp++;
        else if (u < cells.tp + cells.fp + cells.fn) c.fn++;
        else c.tn++;
      }
      const i95 = confusionIntervals(c).f1!;
      if (trueF1 >= i95.lower && trueF1 <= i95.upper) hits++;
    }
    expect(hits / 2000).toBeGreaterThan(0.93);
    expect(hits / 2000).toBeLessThan(0.97);
  });
});

describe(reliability.name, () => {
  it('is the count-weighted gap between accuracy and confidence', () => {
    const sut = reliability([
      { bin: 9, count: 80, confidenceSum: 80 * 0.95, correct: 72 },
      { bin: 6, count: 20, confidenceSum: 20 * 0.65, correct: 13 },
    ]);
    expect(sut.bins.map((b) => b.lower)).toEqual([0.6, 0.9]);
    expect(sut.expectedCalibrationError).toBeCloseTo(0.8 * 0.05 + 0.2 * 0, 12);
    expect(reliability([]).expectedCalibrationError).toBeNull();
  });
});
