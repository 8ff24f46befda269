import { getIntrospectionQuery, print, type DocumentNode } from 'graphql';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/test-app.js';
import { QUERY_LIMITS } from './query-limits.js';

/** Counts calls of the real MetricsService.compute, and how many run at once. */
function countAggregates(sut: TestApp) {
  const metrics = sut.app.services.metrics;
  const original = metrics.compute.bind(metrics);
  const seen = { calls: 0, inFlight: 0, maxInFlight: 0 };
  metrics.compute = async (...args: Parameters<typeof original>) => {
    seen.calls++;
    seen.inFlight++;
    seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
    try {
      return await original(...args);
    } finally {
      seen.inFlight--;
    }
  };
  return { seen, restore: () => (metrics.compute = original) };
}

const PREDICT_BATCH = (selection: string) => `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { ${selection} } }`;
const spamInputs = (n: number) => Array.from({ length: n }, (_, i) => ({ spam: { text: `hello number ${i}` } }));
const metricsAliases = (n: number, distinct: boolean) =>
  `{ ${Array.from({ length: n }, (_, i) => `m${i}: metrics(model: "spam"${distinct ? `, window: { lastFeedback: ${i + 1} }` : ''}) { accuracy feedbackCount }`).join(' ')} }`;

describe('document limits and cost', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { TRAINER: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('refuses 4,800 repeats of one field before validation, with a code, whatever the count', async () => {
    for (const n of [4800, 4801, 4837, QUERY_LIMITS.maxFields + 1]) {
      const res = await sut.gql(`{ models { ${'name '.repeat(n)} } }`);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'fields', max: QUERY_LIMITS.maxFields });
    }
    // At the limit the document runs.
    const ok = await sut.gql(`{ models { ${'name '.repeat(QUERY_LIMITS.maxFields - 1)} } }`);
    expect(ok.errors).toBeUndefined();
  });

  it('gives every refusal a code: tokens, depth, aliases, directives, cost, syntax', async () => {
    const cases: [string, Record<string, unknown>][] = [
      [`{ models { name } } ${'fragment F on Model { name } '.repeat(1000)}`, { code: 'QUERY_TOO_COMPLEX', limit: 'tokens' }],
      [
        `{ models { liveVersion { liveMetrics { liveVersion { liveMetrics { liveVersion { liveMetrics { liveVersion { version } } } } } } } } }`,
        { code: 'QUERY_TOO_COMPLEX', limit: 'depth' },
      ],
      [`{ ${Array.from({ length: 21 }, (_, i) => `a${i}: models { name }`).join(' ')} }`, { code: 'QUERY_TOO_COMPLEX', limit: 'aliases' }],
      [`{ models { ${'name @include(if: true) '.repeat(21)} } }`, { code: 'QUERY_TOO_COMPLEX', limit: 'directives' }],
      [metricsAliases(20, true), { code: 'QUERY_TOO_COMPLEX', limit: 'cost' }],
      [`{ models { name `, { code: 'GRAPHQL_PARSE_FAILED' }],
      [`{ models { nope } }`, { code: 'GRAPHQL_VALIDATION_FAILED' }],
    ];
    for (const [query, extensions] of cases) {
      const res = await sut.gql(query);
      expect(res.errors?.length, query.slice(0, 80)).toBeGreaterThan(0);
      for (const e of res.errors!) expect(e.extensions, query.slice(0, 80)).toMatchObject(extensions);
      expect(res.errors![0]!.message).not.toMatch(/^Syntax Error: .*(limit|exceeded)/);
    }
  });

  it("multiplies nested cost by predictBatch's list size: 1,000 × liveMetrics is refused, nothing stored", async () => {
    const predictions = async () => (await sql<{ n: number }>`select count(*)::int as n from prediction`.execute(sut.app.orm.em.getKysely())).rows[0]!.n;
    const before = await predictions();
    const counter = countAggregates(sut);
    try {
      const res = await sut.gql(PREDICT_BATCH('id modelVersion { liveMetrics { accuracy } }'), { inputs: spamInputs(1000) });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
      expect(counter.seen.calls).toBe(0);
    } finally {
      counter.restore();
    }
    expect(await predictions()).toBe(before);
    // The same batch with an ordinary selection is well within the limit.
    const ok = await sut.gql(PREDICT_BATCH('id label probability scores { label probability } modelVersion { version } createdAt'), {
      inputs: spamInputs(1000),
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.predictBatch).toHaveLength(1000);
  });

  it('computes live metrics once per version per request, however many parents ask', async () => {
    const counter = countAggregates(sut);
    try {
      const res = await sut.gql(PREDICT_BATCH('id modelVersion { version liveMetrics { accuracy predictionCount } }'), { inputs: spamInputs(300) });
      expect(res.errors).toBeUndefined();
      expect(res.data.predictBatch).toHaveLength(300);
      expect(new Set(res.data.predictBatch.map((p: any) => p.modelVersion.liveMetrics.predictionCount)).size).toBe(1);
      expect(counter.seen.calls).toBe(1);
      // Aliases with the same arguments share one aggregate too.
      counter.seen.calls = 0;
      const same = await sut.gql(metricsAliases(9, false));
      expect(same.errors).toBeUndefined();
      expect(counter.seen.calls).toBe(1);
    } finally {
      counter.restore();
    }
  });

  it('runs one metrics aggregate at a time, however many clients ask', async () => {
    const counter = countAggregates(sut);
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => sut.gql(metricsAliases(9, true))));
      for (const a of answers) expect(a.errors).toBeUndefined();
      expect(counter.seen.calls).toBe(8 * 9);
      expect(counter.seen.maxInFlight).toBe(1);
    } finally {
      counter.restore();
    }
  });

  it("still serves GraphiQL's introspection query and the dashboard's largest documents", async () => {
    const schema = await sut.gql(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, oneOf: true } as never));
    expect(schema.errors).toBeUndefined();
    expect(schema.data.__schema.queryType.name).toBe('Query');
    const { METRICS, MODEL_VERSIONS } = await import('../../../web/src/lib/graphql/documents.js');
    for (const doc of [METRICS, MODEL_VERSIONS]) {
      const res = await sut.gql(print(doc as unknown as DocumentNode), { model: 'spam' });
      expect(res.errors).toBeUndefined();
    }
  });
});
