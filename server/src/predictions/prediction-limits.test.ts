import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBMIT_FEEDBACK, startTestApp, type TestApp } from '../../test/test-app.js';
import { RecentPredictions, estimatedRecordBytes } from './prediction-service.js';
import type { PredictionRecord } from './prediction.types.js';

const record = (text: string): PredictionRecord => ({
  id: randomUUID(),
  model: 'spam',
  modelVersionId: 1,
  version: 1,
  input: { text },
  label: 'ham',
  probability: 0.9,
  scores: [
    { label: 'ham', probability: 0.9 },
    { label: 'spam', probability: 0.1 },
  ],
  latencyMs: 1,
  createdAt: new Date(),
});

/** 100,000 characters outside Latin-1: V8 keeps them at 2 bytes each (~200 KB a text). */
const longNonLatin1 = (i: number) => `Ж${i} `.padEnd(100_000, 'жэю');

describe(RecentPredictions.name, () => {
  it('is bounded by bytes as well as by count, evicting the oldest first', () => {
    const sut = new RecentPredictions({ maxCount: 10_000, maxBytes: 2 * 1024 * 1024 });
    const records = Array.from({ length: 50 }, (_, i) => record(longNonLatin1(i)));
    for (const r of records) sut.set(r);
    expect(estimatedRecordBytes(records[0]!)).toBeGreaterThanOrEqual(200_000);
    expect(sut.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(sut.count).toBe(Math.floor((2 * 1024 * 1024) / estimatedRecordBytes(records[0]!)));
    // The newest are kept, the oldest gone.
    expect(sut.get(records.at(-1)!.id)).toBe(records.at(-1));
    expect(sut.get(records[0]!.id)).toBeUndefined();
    const kept = records.filter((r) => sut.get(r.id));
    expect(kept).toEqual(records.slice(records.length - sut.count));
  });

  it('is bounded by count for small records, and skips one record larger than the whole budget', () => {
    const sut = new RecentPredictions({ maxCount: 3, maxBytes: 100_000 });
    const small = Array.from({ length: 5 }, (_, i) => record(`hi ${i}`));
    for (const r of small) sut.set(r);
    expect(small.map((r) => sut.get(r.id) !== undefined)).toEqual([false, false, true, true, true]);
    const huge = record('x'.repeat(60_000));
    sut.set(huge);
    expect(sut.get(huge.id)).toBeUndefined();
    expect(sut.count).toBe(3);
    expect(sut.bytes).toBe(small.slice(2).reduce((s, r) => s + estimatedRecordBytes(r), 0));
  });
});

describe('prediction service limits', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { RECENT_PREDICTIONS_MAX_BYTES: String(1024 * 1024) } });
  });
  afterAll(() => sut?.stop());

  it('keeps the cache of long texts within RECENT_PREDICTIONS_MAX_BYTES, and feedback still finds evicted predictions', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await sut.gql(`mutation($t: String!) { predict(input: { spam: { text: $t } }) { id } }`, { t: longNonLatin1(i) });
      expect(res.errors).toBeUndefined();
      ids.push(res.data.predict.id);
    }
    const recent = (sut.app.services.predictions as unknown as { recent: RecentPredictions }).recent;
    expect(recent.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(recent.count).toBeLessThan(20);
    expect(recent.get(ids[0]!)).toBeUndefined();
    const fb = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: ids[0], correct: true } });
    expect(fb.errors).toBeUndefined();
    expect(fb.data.submitFeedback.prediction.id).toBe(ids[0]);
  });

  it('observes the latency histogram once per request: a batch of 20 is one observation', async () => {
    const count = async () => {
      const text = await (await fetch(`${sut.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('relearn_predict_duration_seconds_count{model="spam"}'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await count();
    const res = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
      inputs: Array.from({ length: 20 }, (_, i) => ({ spam: { text: `hello number ${i}` } })),
    });
    expect(res.errors).toBeUndefined();
    expect(await count()).toBe(before + 1);
    await sut.gql(`mutation { predict(input: { spam: { text: "one more" } }) { id } }`);
    expect(await count()).toBe(before + 2);
    // A batch over two models: one observation for each.
    const fraudBefore = (await (await fetch(`${sut.url}/metrics`)).text()).match(/relearn_predict_duration_seconds_count\{model="fraud"\} (\d+)/)?.[1] ?? '0';
    await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
      inputs: [
        { spam: { text: 'a' + 'b' } },
        { fraud: { amount: 10, hour: 1, dayOfWeek: 1, merchantCategory: 'grocery', previousAmount: 5, timeSinceLast: 1 } },
        { spam: { text: 'cd' } },
      ],
    });
    expect(await count()).toBe(before + 3);
    const fraudAfter = (await (await fetch(`${sut.url}/metrics`)).text()).match(/relearn_predict_duration_seconds_count\{model="fraud"\} (\d+)/)?.[1];
    expect(Number(fraudAfter)).toBe(Number(fraudBefore) + 1);
  });
});
