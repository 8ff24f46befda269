// The hostile documents of the reliability issue, sent while an innocent client predicts: each
// is refused before it runs (or, at the most the limits allow, runs one aggregate at a time),
// every innocent prediction succeeds, and the process serves on. Latency figures are printed,
// not asserted (bench:abuse measures them on a quiet machine).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aFraudInput, PREDICT_FRAUD, startTestApp, type TestApp } from '../test-app.js';

const ATTACKS: { name: string; clients: number; requests: number; body: (i: number) => unknown; refusedAs: string | null }[] = [
  {
    name: '4,800+ repeats of one field',
    clients: 1,
    requests: 40,
    body: (i) => ({ query: `{ models { ${'name '.repeat(4800 + i)} } }` }),
    refusedAs: 'fields',
  },
  {
    name: 'predictBatch 1,000 × modelVersion { liveMetrics }',
    clients: 1,
    requests: 10,
    body: () => ({
      query: `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id modelVersion { liveMetrics { accuracy } } } }`,
      variables: { inputs: Array.from({ length: 1000 }, (_, k) => ({ fraud: aFraudInput({ amount: 10 + k }) })) },
    }),
    refusedAs: 'cost',
  },
  { name: '8 clients × 20 aliases of metrics', clients: 8, requests: 5, body: (i) => ({ query: aliases(20, i) }), refusedAs: 'cost' },
  { name: '8 clients × 9 aliases of metrics (allowed)', clients: 8, requests: 3, body: (i) => ({ query: aliases(9, i) }), refusedAs: null },
];
function aliases(n: number, i: number) {
  return `{ ${Array.from({ length: n }, (_, k) => `m${k}: metrics(model: "fraud", window: { lastFeedback: ${100 + i * n + k} }) { accuracy feedbackCount }`).join(' ')} }`;
}

describe('hostile documents beside an innocent client', () => {
  let sut: TestApp;
  const post = async (body: unknown) => {
    const res = await fetch(`${sut.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  /** Predicts one after the other until `done` resolves; every answer checked. */
  const innocent = async (done: Promise<unknown>, atLeast = 10) => {
    let finished = false;
    void done.finally(() => (finished = true));
    const latencies: number[] = [];
    const failures: string[] = [];
    for (let i = 0; !finished || latencies.length < atLeast; i++) {
      const t0 = performance.now();
      const { status, json } = await post({ query: PREDICT_FRAUD, variables: { input: { fraud: aFraudInput({ amount: 1 + (i % 500) }) } } });
      latencies.push(performance.now() - t0);
      if (status !== 200 || json.errors || !json.data?.predict?.id) failures.push(JSON.stringify(json).slice(0, 200));
      if (latencies.length >= 2000) break;
    }
    latencies.sort((a, b) => a - b);
    return { n: latencies.length, failures, p50: latencies[Math.floor(latencies.length / 2)]! };
  };

  beforeAll(async () => {
    sut = await startTestApp({ env: { TRAINER: 'off' } });
    // Rows for the aggregates to count.
    for (let i = 0; i < 3; i++) {
      const made = await post({
        query: `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`,
        variables: { inputs: Array.from({ length: 1000 }, (_, k) => ({ fraud: aFraudInput({ amount: 5 + k }) })) },
      });
      await Promise.all(
        made.json.data.predictBatch.slice(0, 300).map((p: { id: string }, k: number) =>
          post({
            query: `mutation($i: FeedbackInput!) { submitFeedback(input: $i) { id } }`,
            variables: { i: { predictionId: p.id, correct: k % 3 !== 0 } },
          }),
        ),
      );
    }
  });
  afterAll(() => sut?.stop());

  it('refuses each attack with a code, fails no innocent prediction, and serves on', async () => {
    await innocent(Promise.resolve(), 100); // warm-up
    const idle = await innocent(Promise.resolve(), 300);
    const lines = [`idle: innocent predict p50 ${idle.p50.toFixed(1)} ms over ${idle.n}`];
    for (const attack of ATTACKS) {
      const answers: { status: number; json: any }[] = [];
      const attacking = Promise.all(
        Array.from({ length: attack.clients }, async (_, c) => {
          for (let r = 0; r < attack.requests; r++) answers.push(await post(attack.body(c * attack.requests + r)));
        }),
      );
      const during = await innocent(attacking);
      await attacking;
      lines.push(`${attack.name}: innocent p50 ${during.p50.toFixed(1)} ms over ${during.n} (${(during.p50 / idle.p50).toFixed(2)}x idle)`);
      expect(during.failures, attack.name).toEqual([]);
      expect(answers).toHaveLength(attack.clients * attack.requests);
      for (const a of answers) {
        if (attack.refusedAs) {
          expect(a.status, attack.name).toBe(400);
          expect(a.json.errors?.[0]?.extensions, attack.name).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: attack.refusedAs });
        } else {
          expect(a.json.errors, attack.name).toBeUndefined();
        }
      }
    }
    console.log(lines.join('\n'));
    expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);
  });
});
