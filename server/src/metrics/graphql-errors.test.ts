import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREDICT_FRAUD, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

/** relearn_graphql_* series of this process, as `name{labels}` -> value. */
async function answerCounters(sut: TestApp): Promise<Map<string, number>> {
  const text = await (await fetch(`${sut.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('relearn_graphql_')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

// The dashboard's error rate reads these: every GraphQL answer over HTTP counts once, with the
// codes of its errors, however it was served (the lean path or yoga).
describe.each(['on', 'off'] as const)('GraphQL answer counters with GRAPHQL_FAST_PATH=%s', (fastPath) => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ env: { GRAPHQL_FAST_PATH: fastPath } });
  }, 120_000);
  afterAll(() => sut?.stop());

  it('counts each answer by outcome and each of its errors by code', async () => {
    const before = await answerCounters(sut);
    expect(before.get('relearn_graphql_responses_total{outcome="ok"}')).toBeDefined();
    expect(before.get('relearn_graphql_responses_total{outcome="error"}')).toBeDefined();

    expect((await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } })).errors).toBeUndefined();
    expect((await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput({ hour: 99 }) } })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await sut.gql(`{ nope }`)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await sut.gql(`{ models { name `)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect((await sut.gql(`{ apiKeys { id } }`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const after = await answerCounters(sut);
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('relearn_graphql_responses_total{outcome="ok"}')).toBe(1);
    expect(delta('relearn_graphql_responses_total{outcome="error"}')).toBe(4);
    expect(delta('relearn_graphql_errors_total{code="BAD_USER_INPUT"}')).toBe(1);
    expect(delta('relearn_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}')).toBe(1);
    expect(delta('relearn_graphql_errors_total{code="GRAPHQL_PARSE_FAILED"}')).toBe(1);
    expect(delta('relearn_graphql_errors_total{code="UNAUTHENTICATED"}')).toBe(1);
  });
});
