import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { ADMIN_TOKEN, aFraudInput, PREDICT_FRAUD, startTestApp, type TestApp } from '../../test/test-app.js';

/**
 * GRAPHQL_FAST_PATH=on (the lean path, lean-graphql.ts) and =off (every request through yoga)
 * answer every request alike: the same requests go to both, one after the other, and their
 * status, the headers that matter and the bodies are compared. Both apps share one database (the
 * same models, the same API keys) and have the same limits, so only the transport differs.
 */

const ENV = {
  AUTH_MODE: 'keys',
  RATE_LIMITS: 'on',
  RATE_LIMIT_FEEDBACK_PER_MINUTE: '3',
  MAX_BODY_BYTES: '65536',
};

let fast: TestApp;
let slow: TestApp;
let key: string;
let predictionId: string;

beforeAll(async () => {
  const databaseUrl = await freshDatabaseUrl('relearn');
  // One after the other: the first trains the models, the second loads them.
  fast = await startTestApp({ databaseUrl, env: { ...ENV, GRAPHQL_FAST_PATH: 'on' } });
  slow = await startTestApp({ databaseUrl, env: { ...ENV, GRAPHQL_FAST_PATH: 'off' } });
  const created = await fast.gql(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`,
    { input: { principal: 'parity-client', scopes: ['PREDICT', 'FEEDBACK', 'READ'] } },
    { token: ADMIN_TOKEN },
  );
  expect(created.errors).toBeUndefined();
  key = created.data.createApiKey.key;
  const predicted = await fast.gql(`mutation($input: PredictInput!) { predict(input: $input) { id } }`, { input: { fraud: aFraudInput() } }, { token: key });
  predictionId = predicted.data.predict.id;
}, 240_000);

afterAll(async () => {
  await fast?.stop();
  await slow?.stop();
});

interface Sent {
  method?: string;
  /** Path and query (default /graphql). */
  path?: string;
  headers?: Record<string, string>;
  /** A JSON value (stringified), or the raw body. */
  json?: unknown;
  raw?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
/** The headers a client can act on; date, connection and keep-alive are the socket's. */
const COMPARED_HEADERS = [
  'content-type',
  'content-length',
  'retry-after',
  'allow',
  'accept',
  'vary',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
];

async function send(app: TestApp, r: Sent) {
  const res = await fetch(`${app.url}${r.path ?? '/graphql'}`, {
    method: r.method ?? 'POST',
    headers: r.headers ?? JSON_HEADERS,
    ...(r.json !== undefined ? { body: JSON.stringify(r.json) } : r.raw !== undefined ? { body: r.raw } : {}),
  });
  const text = await res.text();
  const headers = Object.fromEntries(COMPARED_HEADERS.flatMap((h) => (res.headers.get(h) === null ? [] : [[h, res.headers.get(h)!]])));
  return { status: res.status, headers, body: normalise(text) };
}

/** What differs between two correct answers: ids, times, and the seconds left of a rate-limit window. */
function normalise(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/"retryAfterSeconds":\d+/g, '"retryAfterSeconds":0')
    .replace(/retry in \d+ s/g, 'retry in <n> s');
}

/** Sends `r` to both apps (fast first) and expects the same answer; returns it. */
async function same(r: Sent) {
  const a = await send(fast, r);
  const b = await send(slow, r);
  if (a.headers['retry-after'] && b.headers['retry-after']) {
    expect(Math.abs(Number(a.headers['retry-after']) - Number(b.headers['retry-after']))).toBeLessThanOrEqual(1);
    a.headers['retry-after'] = b.headers['retry-after'] = '<n>';
  }
  expect(a).toEqual(b);
  return a;
}

const auth = () => ({ ...JSON_HEADERS, authorization: `Bearer ${key}` });
const predict = (input: unknown) => ({ query: PREDICT_FRAUD, variables: { input } });
const code = (answer: { body: string }) => (JSON.parse(answer.body) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;

describe('GRAPHQL_FAST_PATH on and off', () => {
  it('the switch: on serves plain JSON POSTs on the lean path, off has none', async () => {
    expect(slow.app.http.lean).toBeNull();
    const lean = fast.app.http.lean!;
    expect(lean).not.toBeNull();
    const before = lean.served.lean;
    const answer = await same({ headers: auth(), json: predict({ fraud: aFraudInput() }) });
    expect(answer.status).toBe(200);
    expect(lean.served.lean).toBe(before + 1);
  });

  it('predictions, with the answer the same bytes but for the id and time', async () => {
    const answer = await same({ headers: auth(), json: predict({ fraud: aFraudInput({ amount: 1900, hour: 3 }) }) });
    expect(answer.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
    expect(JSON.parse(answer.body).data.predict.model).toBe('fraud');
  });

  it('input errors: BAD_USER_INPUT from the resolver and from variable coercion, named fields', async () => {
    expect(code(await same({ headers: auth(), json: predict({ fraud: aFraudInput({ hour: 25 }) }) }))).toBe('BAD_USER_INPUT');
    expect(code(await same({ headers: auth(), json: predict({ fraud: { ...aFraudInput(), amount: 'lots' } }) }))).toBe('BAD_USER_INPUT');
    expect(code(await same({ headers: auth(), json: predict({ fraud: aFraudInput(), spam: { text: 'hi' } }) }))).toBe('BAD_USER_INPUT');
    expect(code(await same({ headers: auth(), json: { query: PREDICT_FRAUD } }))).toBe('BAD_USER_INPUT');
  });

  it('credentials: none, unknown, and not enough scope; admin operations', async () => {
    expect(code(await same({ json: predict({ fraud: aFraudInput() }) }))).toBeDefined();
    expect(code(await same({ headers: { ...JSON_HEADERS, authorization: 'Bearer rk_nonsense' }, json: predict({ fraud: aFraudInput() }) }))).toBeDefined();
    const admin = await same({ headers: auth(), json: { query: `mutation { triggerRetrain(model: "fraud", reason: "parity") { id } }` } });
    expect(['UNAUTHENTICATED', 'FORBIDDEN']).toContain(code(admin));
  });

  it('parse, validation and operation errors, with their HTTP statuses for both media types', async () => {
    for (const accept of ['application/graphql-response+json', 'application/json', '*/*']) {
      const headers = { ...auth(), accept };
      expect(code(await same({ headers, json: { query: '{ models { name ' } }))).toBe('GRAPHQL_PARSE_FAILED');
      expect(code(await same({ headers, json: { query: '{ models { nope } }' } }))).toBe('GRAPHQL_VALIDATION_FAILED');
      await same({ headers, json: { query: 'query A { models { name } } query B { __typename }' } });
      await same({ headers, json: { query: 'query A { models { name } } query B { __typename }', operationName: 'B' } });
      await same({ headers, json: { query: 'query A { models { name } }', operationName: 'C' } });
    }
  });

  it('query limits: too many aliases, fields or too deep, QUERY_TOO_COMPLEX (HTTP 400)', async () => {
    // The 200 ms refusal delay is query-limits.ts's onResultProcess hook, which the lean path runs like every such hook.
    const lean = fast.app.http.lean!;
    const before = lean.served.lean;
    const aliases = await same({ headers: auth(), json: { query: `{ ${Array.from({ length: 25 }, (_, i) => `a${i}: models { name }`).join(' ')} }` } });
    expect(aliases.status).toBe(400);
    expect(code(aliases)).toBe('QUERY_TOO_COMPLEX');
    expect(code(await same({ headers: auth(), json: { query: `{ ${'models { name } '.repeat(210)} }` } }))).toBe('QUERY_TOO_COMPLEX');
    expect(code(await same({ headers: auth(), json: { query: `{ ${'models { '.repeat(70)}name${' }'.repeat(70)} }` } }))).toBe('QUERY_TOO_COMPLEX');
    expect((await same({ headers: auth(), json: { query: `{ a: models { name } b: models { name } c: __typename }` } })).status).toBe(200);
    expect(lean.served.lean).toBe(before + 4);
  });

  it('NOT_FOUND, rate limits (429 with Retry-After) and what a principal may read', async () => {
    const unknown = { query: `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id } }` };
    expect(
      code(
        await same({ headers: auth(), json: { ...unknown, variables: { input: { predictionId: '00000000-0000-4000-8000-000000000000', correct: true } } } }),
      ),
    ).toBe('NOT_FOUND');
    // The feedback limit is 3 a minute per principal and process: the same sequence on each app.
    const feedback = { ...unknown, variables: { input: { predictionId, correct: true, idempotencyKey: 'parity-1' } } };
    let last;
    for (let i = 0; i < 4; i++) last = await same({ headers: auth(), json: feedback });
    expect(last!.status).toBe(429);
    expect(last!.headers['retry-after']).toBe('<n>');
    expect(code(last!)).toBe('RATE_LIMITED');
  });

  it('requests the lean path leaves to yoga: batches, odd bodies, other media types, CORS, GET, GraphiQL', async () => {
    const lean = fast.app.http.lean!;
    const before = lean.served.lean;
    await same({ headers: auth(), json: [{ query: '{ __typename }' }, { query: '{ __typename }' }] });
    await same({ headers: auth(), raw: '{"query": "{ __typename }"' });
    await same({ headers: auth(), raw: '' });
    await same({ headers: auth(), raw: 'null' });
    await same({ headers: auth(), json: { query: 42 } });
    await same({ headers: auth(), json: { query: '{ __typename }', variables: [1] } });
    await same({ headers: auth(), json: { query: '{ __typename }', extra: true } });
    await same({ headers: { ...auth(), 'content-type': 'text/plain' }, raw: '{"query":"{ __typename }"}' });
    await same({ headers: { ...auth(), 'content-type': 'application/graphql+json' }, json: { query: '{ __typename }' } });
    await same({ headers: { ...auth(), accept: 'application/xml' }, json: { query: '{ __typename }' } });
    await same({ headers: { ...auth(), accept: 'application/json; charset=latin1' }, json: { query: '{ __typename }' } });
    await same({ headers: { ...auth(), origin: 'http://elsewhere.example' }, json: { query: '{ __typename }' } });
    await same({ method: 'GET', path: '/graphql?query=%7B__typename%7D', headers: { accept: 'application/json' } });
    await same({ method: 'GET', path: '/graphql?query=mutation%7B__typename%7D', headers: { accept: 'application/json' } });
    await same({ method: 'PUT', headers: auth(), json: { query: '{ __typename }' } });
    expect(lean.served.lean).toBe(before);
    // Media types the lean path does take: the negotiated one is yoga's.
    for (const accept of ['application/json', '*/*', 'application/*', 'text/event-stream, application/json', 'application/json, multipart/mixed']) {
      await same({ headers: { ...auth(), accept }, json: { query: '{ __typename }' } });
    }
    const noAccept = { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${key}` };
    await same({ headers: noAccept, json: { query: '{ __typename }' } });
    expect(lean.served.lean).toBe(before + 6);
  });

  it('a body over MAX_BODY_BYTES is refused alike (413)', async () => {
    const answer = await same({ headers: auth(), json: { query: '{ __typename }', variables: { pad: 'x'.repeat(70_000) } } });
    expect(answer.status).toBe(413);
  });

  it("graphql-http's server audits: every MUST and SHOULD passes on both settings", async () => {
    for (const app of [fast, slow]) {
      const results = await Promise.all(serverAudits({ url: `${app.url}/graphql` }).map((audit) => audit.fn()));
      const failed = results.filter((r) => r.status !== 'ok' && !r.name.startsWith('MAY')).map((r) => r.name);
      expect(failed).toEqual([]);
    }
  });
});
