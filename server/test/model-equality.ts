import { expect } from 'vitest';
import type { NaiveBayesModel } from '../src/ml/naive-bayes.js';

/**
 * The largest difference between two models' statistics (their artifacts, number by number),
 * relative to the size of the numbers; throws when their shapes differ.
 */
export function modelDistance(a: NaiveBayesModel, b: NaiveBayesModel): number {
  let worst = 0;
  const walk = (x: unknown, y: unknown, path: string) => {
    if (typeof x === 'number' && typeof y === 'number') {
      worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(x), Math.abs(y)));
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) throw new Error(`${path}: ${x.length} vs ${y.length} entries`);
      x.forEach((v, i) => walk(v, y[i], `${path}[${i}]`));
      return;
    }
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
      return;
    }
    if (x !== y) throw new Error(`${path}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  };
  walk(a.toJSON(), b.toJSON(), 'model');
  return worst;
}

/** Two models with the same statistics, to `tolerance` (relative). */
export function expectSameModel(actual: NaiveBayesModel, expected: NaiveBayesModel, tolerance = 1e-9): void {
  expect(modelDistance(actual, expected)).toBeLessThanOrEqual(tolerance);
}
