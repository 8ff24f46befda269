import { describe, expect, it } from 'vitest';
import { isUuid } from '../shared/uuid.js';
import { uuidv7, uuidv7Bound, uuidv7Time } from '../shared/uuid-v7.js';
import { missingSpans, partitionName } from './partitions.js';

describe('UUIDv7 ids and partition bounds', () => {
  it('carries its millisecond first, version 7 and the RFC variant, and sorts by time against the bounds', () => {
    const at = Date.UTC(2026, 11, 2, 5, 0, 0, 123);
    const ids = Array.from({ length: 1000 }, () => uuidv7(at));
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
      expect(uuidv7Time(id)).toBe(at);
      // PostgreSQL compares uuids bytewise: the same as comparing the lower-case text.
      expect(id >= uuidv7Bound(at) && id < uuidv7Bound(at + 1)).toBe(true);
    }
    expect(uuidv7(at - 1) < uuidv7Bound(at)).toBe(true);
    expect(uuidv7Time(uuidv7Bound(at))).toBe(at);
  });

  it('names a partition by its span start and finds the spans missing around existing ranges', () => {
    const m = 60_000;
    expect(partitionName(Date.UTC(2026, 11, 2, 5, 7))).toBe('prediction_p20261202t0507');
    expect(missingSpans([], 90_000, 3 * m, m)).toEqual([
      { start: m, end: 2 * m },
      { start: 2 * m, end: 3 * m },
    ]);
    // A range made with another span (the setting changed) is cut around, never overlapped.
    expect(missingSpans([{ from: 0, to: 90_000 }], 0, 3 * m, m)).toEqual([
      { start: 90_000, end: 2 * m },
      { start: 2 * m, end: 3 * m },
    ]);
    expect(missingSpans([{ from: 150_000, to: 10 * m }], 0, 3 * m, m)).toEqual([
      { start: 0, end: m },
      { start: m, end: 2 * m },
      { start: 2 * m, end: 150_000 },
    ]);
  });
});
