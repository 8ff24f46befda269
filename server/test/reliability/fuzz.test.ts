// Generated hostile input against the running API: >= 10,000 cases from fast-check with a fixed
// seed (FUZZ_SEED to change it, FUZZ_CASES for the count), covering every mutation and query a
// client can send, the alert webhook route, and documents that are deep, wide, aliased or not
// GraphQL at all. Each answer must be a non-5xx, carry no INTERNAL_SERVER_ERROR, no NaN, and a
// code on every error; the process must be alive and serving afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../test-app.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const WEBHOOK_TOKEN = 'fuzz-webhook-token-0123456789';
const CONCURRENCY = 16;

interface Case {
  kind: string;
  path: '/graphql' | '/webhooks/alerts';
  /** A JSON value to send, or raw text. */
  body: unknown;
  raw?: boolean;
  token?: string;
}

// ------------------------------------------------------------------------------------ values

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udc00y',
      '\ud83d',
      '😀',
      '',
      ' ',
      'NaN',
      'Infinity',
      '-Infinity',
      '1e309',
      '-0',
      'null',
      'undefined',
      '{}',
      '[]',
      "'; drop table prediction; --",
      '\\',
      '"',
      '\u202e',
      '\ufeff',
      '𝕏'.repeat(300),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('w'.repeat(10_001), 'ä'.repeat(20_000), 'word '.repeat(3000)) },
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e308, -1e308, 2 ** 53 + 1, 2 ** 31, -(2 ** 31) - 1, 1e-320, 5e-324, Number.MAX_SAFE_INTEGER),
);
/** Any JSON value, sometimes hostile, sometimes nested. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('NaN', 'Infinity'),
);
/** Usually a valid value, otherwise anything. */
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: anyValue });
const withUnknown = (obj: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(obj, fc.option(fc.dictionary(fc.string({ maxLength: 8 }), anyValue, { maxKeys: 2 }), { freq: 4 })).map(([o, extra]) => ({ ...o, ...(extra ?? {}) }));

const fraudInput = withUnknown(
  fc.record(
    {
      amount: mostly(fc.double({ min: 0.01, max: 100_000, noNaN: true })),
      hour: mostly(fc.integer({ min: 0, max: 23 })),
      dayOfWeek: mostly(fc.integer({ min: 0, max: 6 })),
      merchantCategory: mostly(fc.constantFrom('grocery', 'travel', 'crypto')),
      previousAmount: mostly(fc.double({ min: 0, max: 100_000, noNaN: true })),
      timeSinceLast: mostly(fc.double({ min: 0, max: 10_000, noNaN: true })),
    },
    { requiredKeys: [] },
  ),
);
const spamInput = withUnknown(fc.record({ text: mostly(fc.lorem({ maxCount: 20 })) }, { requiredKeys: [] }));
const predictInput = fc.oneof(
  fc.record({ fraud: fraudInput }),
  fc.record({ spam: spamInput }),
  fc.record({ fraud: fraudInput, spam: spamInput }),
  fc.constant({}),
  anyValue,
);

// ----------------------------------------------------------------------------- operations

const PREDICT = `mutation($input: PredictInput!) { predict(input: $input) { id label probability scores { label probability } modelVersion { version } } }`;
const PREDICT_BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label probability } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id actual correct } }`;
const OUTCOMES = `mutation($model: String!, $outcomes: [OutcomeInput!]!, $version: Int) { recordOutcomes(model: $model, outcomes: $outcomes, version: $version) { count metrics { accuracy precision recall f1 feedbackShare } } }`;
const METRICS = `query($model: String!, $window: MetricsWindow, $version: Int) { metrics(model: $model, window: $window, version: $version) { accuracy precision recall f1 feedbackShare predictionCount feedbackCount confusion { tp tn fp fn } } }`;
const HANDLE_ALERT = `mutation($input: AlertInput!) { handleAlert(input: $input) { accepted retrainJobId alerts { id action } } }`;
const ACTIVATE = `mutation($m: String!, $v: Int!, $r: String) { activateModelVersion(model: $m, version: $v, reason: $r) { version status } }`;
const TRIGGER = `mutation($m: String!, $r: String) { triggerRetrain(model: $m, reason: $r) { id state reason } }`;
const QUERIES = [
  `query($m: String!) { modelVersions(model: $m) { version status liveMetrics { accuracy } trainingMetrics { logLoss } } }`,
  `query($m: String!, $l: Int) { alerts(model: $m, limit: $l) { id } }`,
  `query($m: String!, $l: Int) { retrainJobs(model: $m, limit: $l) { id state } }`,
  `query($id: ID!) { prediction(id: $id) { id label input } }`,
  `query($m: String!) { modelActivations(model: $m) { version actor } }`,
];

const gqlCase = (kind: string, query: string, variables: fc.Arbitrary<unknown>, token?: string): fc.Arbitrary<Case> =>
  variables.map((v) => ({ kind, path: '/graphql' as const, body: { query, variables: v }, ...(token ? { token } : {}) }));

function cases(predictionIds: string[]): fc.Arbitrary<Case> {
  const predictionId = fc.oneof(fc.constantFrom(...predictionIds), fc.uuid(), anyValue);
  const model = mostly(fc.constantFrom('fraud', 'spam'));
  const alertItem = withUnknown(
    fc.record(
      {
        status: mostly(fc.constantFrom('firing', 'resolved')),
        fingerprint: mostly(fc.string({ minLength: 1, maxLength: 20 })),
        labels: mostly(fc.record({ model, action: mostly(fc.constant('retrain')), alertname: hostileString }, { requiredKeys: [] })),
        annotations: fc.option(mostly(fc.dictionary(hostileString, hostileString, { maxKeys: 3 }))),
        startsAt: fc.option(
          mostly(fc.date({ min: new Date('0001-01-01'), max: new Date('9999-12-31') }).map((d) => (Number.isNaN(d.getTime()) ? 'bad' : d.toISOString()))),
        ),
        endsAt: fc.option(mostly(fc.constantFrom('0001-01-01T00:00:00Z', '2026-11-23T09:10:00Z', 'garbage'))),
      },
      { requiredKeys: [] },
    ),
  );
  const alertBody = withUnknown(
    fc.record(
      {
        version: fc.option(mostly(fc.constantFrom('1', '4'))),
        orgId: fc.option(mostly(fc.constant(1))),
        status: mostly(fc.constantFrom('firing', 'resolved')),
        groupKey: fc.option(mostly(hostileString)),
        receiver: fc.option(anyValue),
        alerts: mostly(fc.array(alertItem, { minLength: 0, maxLength: 4 })),
      },
      { requiredKeys: [] },
    ),
  );
  const alertInput = fc.tuple(alertBody, mostly(fc.constantFrom('grafana', 'alertmanager'))).map(([b, source]) => {
    const { version: _v, orgId: _o, receiver: _r, ...rest } = b as Record<string, unknown>;
    return { ...rest, source };
  });
  const field = fc.constantFrom(
    'name',
    'labels',
    'inputType',
    'positiveLabel',
    'features { name min max }',
    'liveVersion { version liveMetrics { accuracy } }',
    'nope',
    '__typename',
  );
  const documents = fc.oneof(
    // Deep nesting of objects that exist, and of braces that do not parse.
    fc.integer({ min: 1, max: 40 }).map((d) => `{ models { ${'liveVersion { liveMetrics { liveVersion { '.repeat(d)} version ${'} } } '.repeat(d)} } }`),
    fc.integer({ min: 1, max: 3000 }).map((d) => `${'{ a '.repeat(d)}${'}'.repeat(d)}`),
    // Many aliases, many fields, many directives, many fragments.
    fc.tuple(fc.integer({ min: 1, max: 400 }), field).map(([n, f]) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: models { ${f} }`).join(' ')} }`),
    fc.tuple(fc.integer({ min: 1, max: 6000 }), field).map(([n, f]) => `{ models { ${`${f} `.repeat(n)} } }`),
    fc.integer({ min: 1, max: 60 }).map((n) => `{ models { name ${'@include(if: true) @skip(if: false) '.repeat(n)} } }`),
    fc
      .integer({ min: 1, max: 300 })
      .map(
        (n) =>
          `query { ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { models { name } ${i + 1 < n ? `...F${i + 1}` : ''} }`).join(' ')}`,
      ),
    fc
      .integer({ min: 1, max: 30 })
      .map((n) => `{ ${Array.from({ length: n }, (_, i) => `m${i}: metrics(model: "spam", window: { lastSeconds: ${i + 1} }) { accuracy }`).join(' ')} }`),
    fc
      .integer({ min: 1, max: 1200 })
      .map(
        (n) =>
          `mutation { predictBatch(inputs: [${Array.from({ length: n }, () => '{ spam: { text: "hi" } }').join(', ')}]) { id modelVersion { liveMetrics { accuracy } } } }`,
      ),
    // Unknown fields, bad syntax, random text, subscriptions over HTTP.
    fc.string({ maxLength: 200 }),
    hostileString,
    fc.constantFrom(
      '{ nope }',
      'mutation { nope }',
      '{ models { name } } { models { name } }',
      'query Q { models { name } } query Q { models { name } }',
      'subscription { metricsUpdated(model: "spam") { accuracy } }',
      '{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }',
      '{ models { ...on Model { ...on Model { name } } } }',
    ),
  );
  return fc.oneof(
    gqlCase('predict', PREDICT, fc.record({ input: predictInput })),
    gqlCase('predictBatch', PREDICT_BATCH, fc.record({ inputs: mostly(fc.array(predictInput, { maxLength: 30 })) })),
    gqlCase(
      'predictBatch-size',
      PREDICT_BATCH,
      fc.integer({ min: 0, max: 1100 }).map((n) => ({ inputs: Array.from({ length: n }, () => ({ spam: { text: 'x' } })) })),
    ),
    gqlCase(
      'submitFeedback',
      FEEDBACK,
      fc.record({
        input: withUnknown(
          fc.record(
            {
              predictionId,
              correct: fc.option(mostly(fc.boolean())),
              actual: fc.option(mostly(fc.constantFrom('spam', 'ham', 'fraud', 'legit'))),
              idempotencyKey: fc.option(mostly(fc.string({ maxLength: 60 }))),
            },
            { requiredKeys: [] },
          ),
        ),
      }),
    ),
    gqlCase(
      'recordOutcomes',
      OUTCOMES,
      fc.record(
        {
          model,
          outcomes: mostly(
            fc.array(
              withUnknown(
                fc.record(
                  {
                    predicted: mostly(fc.constantFrom('spam', 'ham', 'fraud', 'legit')),
                    actual: mostly(fc.constantFrom('spam', 'ham', 'fraud', 'legit')),
                    idempotencyKey: fc.option(hostileString),
                  },
                  { requiredKeys: [] },
                ),
              ),
              { maxLength: 20 },
            ),
          ),
          version: fc.option(mostly(fc.integer({ min: -5, max: 5 }))),
        },
        { requiredKeys: [] },
      ),
    ),
    gqlCase(
      'metrics',
      METRICS,
      fc.record(
        {
          model,
          window: fc.option(
            mostly(
              fc.oneof(
                fc.record({ lastFeedback: mostly(fc.integer({ min: -10, max: 200_000_000 })) }),
                fc.record({ lastSeconds: mostly(fc.integer({ min: -10, max: 200_000_000 })) }),
                fc.record({ lastFeedback: hostileNumber, lastSeconds: hostileNumber }),
              ),
            ),
          ),
          version: fc.option(mostly(fc.integer({ min: -3, max: 2 ** 31 - 1 }))),
        },
        { requiredKeys: [] },
      ),
    ),
    gqlCase('handleAlert', HANDLE_ALERT, fc.record({ input: alertInput }), WEBHOOK_TOKEN),
    // Admin mutations, with the admin token (so the arguments are what is tested).
    gqlCase(
      'activateModelVersion',
      ACTIVATE,
      fc.record({ m: model, v: mostly(fc.integer({ min: -2, max: 3 })), r: fc.option(hostileString) }, { requiredKeys: [] }),
      ADMIN_TOKEN,
    ),
    gqlCase('triggerRetrain', TRIGGER, fc.record({ m: model, r: fc.option(hostileString) }, { requiredKeys: [] }), ADMIN_TOKEN),
    fc
      .tuple(
        fc.constantFrom(...QUERIES),
        fc.record({ m: model, l: fc.option(mostly(fc.integer({ min: -5, max: 1000 }))), id: predictionId }, { requiredKeys: [] }),
      )
      .map(([query, variables]) => ({ kind: 'queries', path: '/graphql' as const, body: { query, variables } })),
    alertBody.map((body) => ({ kind: 'webhook', path: '/webhooks/alerts' as const, body, token: WEBHOOK_TOKEN })),
    fc
      .oneof(
        fc.string({ maxLength: 100 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      )
      .map((body) => ({ kind: 'webhook-raw', path: '/webhooks/alerts' as const, body, raw: true, token: WEBHOOK_TOKEN })),
    documents.map((query) => ({ kind: 'document', path: '/graphql' as const, body: { query }, token: ADMIN_TOKEN })),
    fc
      .tuple(fc.constantFrom(PREDICT, METRICS, FEEDBACK), anyValue)
      .map(([query, variables]) => ({ kind: 'variables', path: '/graphql' as const, body: { query, variables } })),
    fc
      .oneof(
        fc.string({ maxLength: 100 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      )
      .map((body) => ({ kind: 'graphql-raw', path: '/graphql' as const, body, raw: true })),
  );
}

// ---------------------------------------------------------------------------------- checks

/** What is wrong with one answer (empty: nothing). */
function problemsOf(status: number, text: string, kind: string, body: string): string[] {
  const problems: string[] = [];
  // A subscription over HTTP with only JSON acceptable: HTTP's own refusal (406, empty body).
  if (status === 406 && kind === 'document' && body.includes('subscription')) return problems;
  if (status >= 500) problems.push(`HTTP ${status}`);
  if (text.includes('INTERNAL_SERVER_ERROR')) problems.push('INTERNAL_SERVER_ERROR');
  let json: any;
  try {
    json = JSON.parse(text); // a bare NaN or Infinity is not JSON
  } catch {
    problems.push('answer is not JSON');
    return problems;
  }
  // graphql-js refuses to serialise NaN or Infinity as a Float (JSON cannot carry them either).
  // (Errors with a path come from serialising a result; input coercion errors have none.)
  if ((json.errors ?? []).some((e: any) => e.path && /cannot represent/.test(e.message))) problems.push('NaN reached a Float');
  for (const e of json.errors ?? []) if (!e.extensions?.code) problems.push(`error without a code: ${String(e.message).slice(0, 100)}`);
  return problems;
}

describe('fuzz: generated hostile input against the running API', () => {
  let sut: TestApp;
  const predictionIds: string[] = [];
  beforeAll(async () => {
    sut = await startTestApp({ env: { TRAINER: 'off', WEBHOOK_TOKEN } });
    const made = await sut.gql(
      `mutation { predictBatch(inputs: [${Array.from({ length: 20 }, (_, i) => (i % 2 ? `{ spam: { text: "free money ${i}" } }` : `{ fraud: { amount: ${10 + i}, hour: 3, dayOfWeek: 2, merchantCategory: "grocery", previousAmount: 5, timeSinceLast: 1 } }`)).join(', ')}]) { id } }`,
    );
    predictionIds.push(...made.data.predictBatch.map((p: { id: string }) => p.id));
  });
  afterAll(() => sut?.stop());

  it(`${CASES} cases (seed ${SEED}): no 5xx, no INTERNAL_SERVER_ERROR, no NaN, a code on every error, alive after`, async () => {
    console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} reproduces), ${CASES} cases`);
    const all = fc.sample(cases(predictionIds), { seed: SEED, numRuns: CASES });
    const failures: { kind: string; problems: string[]; body: string; answer: string }[] = [];
    const byKind = new Map<string, number>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < all.length) {
          const c = all[next++]!;
          byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
          const body = c.raw ? String(c.body) : JSON.stringify(c.body);
          const res = await fetch(`${sut.url}${c.path}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/graphql-response+json, application/json',
              ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
            },
            body,
          });
          const text = await res.text();
          const problems = problemsOf(res.status, text, c.kind, body);
          if (problems.length) failures.push({ kind: c.kind, problems, body: body.slice(0, 300), answer: text.slice(0, 300) });
        }
      }),
    );
    console.log(
      `fuzz: ${all.length} cases in ${((performance.now() - started) / 1000).toFixed(1)} s; by kind: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
    const summary = new Map<string, number>();
    for (const f of failures) for (const p of f.problems) summary.set(`${f.kind}: ${p.slice(0, 80)}`, (summary.get(`${f.kind}: ${p.slice(0, 80)}`) ?? 0) + 1);
    if (failures.length) {
      console.log(`fuzz: ${failures.length} failing cases:\n${[...summary].map(([k, n]) => `  ${n} × ${k}`).join('\n')}`);
      for (const f of failures.slice(0, 10)) console.log(`  e.g. ${f.kind}: ${f.body}\n    -> ${f.answer}`);
    }

    // Alive and serving after it all.
    expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);
    const after = await sut.gql(`mutation { predict(input: { spam: { text: "still here?" } }) { id label } }`);
    expect(after.errors).toBeUndefined();
    expect(failures.map((f) => `${f.kind}: ${f.problems.join(', ')} <- ${f.body.slice(0, 160)}`).slice(0, 20)).toEqual([]);
  });
});
