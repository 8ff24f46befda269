import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerBody } from '../../test/alert-bodies.js';
import { ADMIN_TOKEN, aFraudInput, nextResults, startTestApp, type GraphQLResponse, type TestApp } from '../../test/test-app.js';
import { runSimulation } from '../simulation/simulation.js';
import { runKeysCli } from './keys-cli.js';

const PREDICT = `mutation($input: PredictInput!) { predict(input: $input) { id label } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id actual } }`;
const OUTCOMES = `mutation($outcomes: [OutcomeInput!]!) { recordOutcomes(model: "fraud", outcomes: $outcomes) { count } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id principal scopes createdAt revokedAt } } }`;
const REVOKE_KEY = `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt revokedBy } }`;
const AUDIT = `query($kind: String, $model: String) { auditLog(kind: $kind, model: $model, first: 50) { id kind actor model at details } }`;

/** One GraphQL request over HTTP, with its status and headers (the test app's gql() has the body only). */
async function post(sut: TestApp, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const res = await fetch(`${sut.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse };
}

const code = (r: { body: GraphQLResponse } | GraphQLResponse) => ('body' in r ? r.body : r).errors?.[0]?.extensions?.code;

/** The `source` column of stored predictions, in the order of `ids`. */
async function storedSources(sut: TestApp, ids: string[]): Promise<(string | null)[]> {
  const { rows } = await sql<{ id: string; source: string | null }>`select id, source from prediction where id = any(${ids}::uuid[])`.execute(
    sut.app.orm.em.getKysely(),
  );
  return ids.map((id) => rows.find((r) => r.id === id)?.source ?? null);
}

async function createKey(sut: TestApp, principal: string, scopes: string[]): Promise<{ id: string; key: string }> {
  const created = await sut.gql(CREATE_KEY, { input: { principal, scopes } }, { token: ADMIN_TOKEN });
  expect(created.errors).toBeUndefined();
  return { id: created.data.createApiKey.apiKey.id, key: created.data.createApiKey.key };
}

/** A graphql-ws client whose connection carries `token` (the dashboard's connectionParams). */
async function wsClient(sut: TestApp, token?: string) {
  const { createClient } = await import('graphql-ws');
  const { default: WebSocket } = await import('ws');
  return createClient({
    url: `${sut.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

async function wsResult(sut: TestApp, query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLResponse> {
  const client = await wsClient(sut, token);
  try {
    return await new Promise<GraphQLResponse>((resolve, reject) => {
      let result: GraphQLResponse = {};
      client.subscribe(
        { query, variables },
        {
          next: (r) => (result = r as GraphQLResponse),
          error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
          complete: () => resolve(result),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

describe.each(['postgres', 'embedded'] as const)('access with AUTH_MODE=keys (%s)', (database) => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp({
      database,
      env: {
        AUTH_MODE: 'keys',
        RATE_LIMITS: 'on',
        RATE_LIMIT_FEEDBACK_PER_MINUTE: '5',
        MAX_OUTCOMES_PER_CALL: '10',
        GRAPHQL_INTROSPECTION: 'off',
        TRAINER: 'off',
      },
    });
  });

  afterAll(async () => {
    await sut?.stop();
  });

  it('refuses anonymous writes and operational reads with UNAUTHENTICATED (HTTP 401) naming the scope; public reads stay open', async () => {
    const predict = await post(sut, PREDICT, { input: { fraud: aFraudInput() } });
    expect(predict.status).toBe(401);
    expect(predict.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', scope: 'PREDICT' });
    expect(code(await post(sut, OUTCOMES, { outcomes: [{ predicted: 'fraud', actual: 'legit' }] }))).toBe('UNAUTHENTICATED');
    expect((await post(sut, `{ alerts(model: "fraud") { id } }`)).body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', scope: 'READ' });
    expect(code(await post(sut, `{ retrainJobs(model: "fraud") { id } }`))).toBe('UNAUTHENTICATED');
    expect(code(await post(sut, `{ modelActivations(model: "fraud") { version } }`))).toBe('UNAUTHENTICATED');
    expect(code(await post(sut, `{ auditLog { id } }`))).toBe('UNAUTHENTICATED');
    const metrics = await post(sut, `{ metrics(model: "fraud") { feedbackCount } }`);
    expect(metrics.body.errors).toBeUndefined();
  });

  it('creates a key (the secret once, the list without it), which works for its scopes only: FORBIDDEN (HTTP 403) names the missing one', async () => {
    const { id, key } = await createKey(sut, 'checkout-service', ['PREDICT', 'FEEDBACK']);
    expect(key).toMatch(new RegExp(`^rlk_${id}_[A-Za-z0-9_-]{43}$`));
    const listed = await sut.gql(`{ apiKeys { id principal scopes createdAt revokedAt } }`, {}, { token: ADMIN_TOKEN });
    expect(listed.data.apiKeys).toContainEqual(
      expect.objectContaining({ id, principal: 'checkout-service', scopes: ['PREDICT', 'FEEDBACK'], revokedAt: null }),
    );
    expect(JSON.stringify(listed)).not.toContain(key);

    const predicted = await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, key);
    expect(predicted.body.errors).toBeUndefined();
    const batch = await post(
      sut,
      `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id source } }`,
      { inputs: [{ fraud: aFraudInput() }] },
      key,
    );
    expect(batch.body.data.predictBatch[0].source).toBe('checkout-service');
    // Stored with the row (the corrected accuracy stratifies by it), as feedback stores its source.
    expect(await storedSources(sut, [predicted.body.data.predict.id, batch.body.data.predictBatch[0].id])).toEqual(['checkout-service', 'checkout-service']);
    const feedback = await post(sut, FEEDBACK, { input: { predictionId: predicted.body.data.predict.id, correct: true } }, key);
    expect(feedback.body.errors).toBeUndefined();

    const outcomes = await post(sut, OUTCOMES, { outcomes: [{ predicted: 'fraud', actual: 'legit' }] }, key);
    expect(outcomes.status).toBe(403);
    expect(outcomes.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'OUTCOMES' });
    expect(outcomes.body.errors![0]!.message).toMatch(/checkout-service.*OUTCOMES/);
    const admin = await post(sut, CREATE_KEY, { input: { principal: 'x', scopes: ['ADMIN'] } }, key);
    expect(admin.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'ADMIN' });
    expect(code(await post(sut, `{ alerts(model: "fraud") { id } }`, {}, key))).toBe('FORBIDDEN');

    const reader = await createKey(sut, 'ops-team', ['READ']);
    expect((await post(sut, `{ alerts(model: "fraud") { id } retrainJobs(model: "fraud") { id } }`, {}, reader.key)).body.errors).toBeUndefined();
  });

  it('lets a key with the ADMIN scope review and retract feedback as the admin token does; without it FORBIDDEN names ADMIN', async () => {
    const steward = await createKey(sut, 'label-steward', ['ADMIN']);
    const writer = await createKey(sut, 'label-writer', ['FEEDBACK']);
    const queue = `{ quarantinedFeedback(model: "spam") { id } }`;
    const retract = `mutation($input: RetractFeedbackInput!) { retractFeedback(input: $input) { count } }`;
    const review = `mutation { reviewQuarantine(ids: [], decision: REJECT) }`;
    expect((await post(sut, queue, {}, steward.key)).body.errors).toBeUndefined();
    expect((await post(sut, review, {}, steward.key)).body.errors).toBeUndefined();
    expect((await post(sut, retract, { input: { source: 'nobody-at-all', reason: 'test' } }, steward.key)).body).toMatchObject({
      data: { retractFeedback: { count: 0 } },
    });
    for (const [query, variables] of [
      [queue, {}],
      [review, {}],
      [retract, { input: { source: 'nobody-at-all', reason: 'test' } }],
    ] as const) {
      const refused = await post(sut, query, variables, writer.key);
      expect(refused.status).toBe(403);
      expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'ADMIN' });
    }
    expect(code(await post(sut, queue))).toBe('UNAUTHENTICATED');
  });

  it('refuses unknown, malformed and revoked keys with UNAUTHENTICATED; a revocation takes effect at once', async () => {
    const unknown = await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, `rlk_0123456789abcdef_${'a'.repeat(43)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body.errors![0]!.message).toMatch(/unknown API key/);
    expect(code(await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, 'not-a-key-at-all-0123456789'))).toBe('UNAUTHENTICATED');

    const { id, key } = await createKey(sut, 'leaky-laptop', ['PREDICT']);
    expect((await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, key)).body.errors).toBeUndefined();
    const revoked = await sut.gql(REVOKE_KEY, { id }, { token: ADMIN_TOKEN });
    expect(revoked.data.revokeApiKey).toMatchObject({ id, revokedBy: 'admin' });
    const after = await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, key);
    expect(after.status).toBe(401);
    expect(after.body.errors![0]!.message).toMatch(/revoked/);
    // Revoking again changes nothing; an unknown id is NOT_FOUND.
    expect((await sut.gql(REVOKE_KEY, { id }, { token: ADMIN_TOKEN })).data.revokeApiKey.revokedAt).toBe(revoked.data.revokeApiKey.revokedAt);
    expect(code(await sut.gql(REVOKE_KEY, { id: 'ffffffffffffffff' }, { token: ADMIN_TOKEN }))).toBe('NOT_FOUND');
  });

  it('refuses reserved principals and empty scopes with BAD_USER_INPUT naming the field', async () => {
    const reserved = await sut.gql(CREATE_KEY, { input: { principal: 'admin', scopes: ['PREDICT'] } }, { token: ADMIN_TOKEN });
    expect(reserved.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.principal' });
    const none = await sut.gql(CREATE_KEY, { input: { principal: 'someone', scopes: [] } }, { token: ADMIN_TOKEN });
    expect(none.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.scopes' });
  });

  it('applies the same credentials and scopes over graphql-ws (connectionParams)', async () => {
    const { key } = await createKey(sut, 'ws-client', ['PREDICT']);
    const anonymous = await wsResult(sut, PREDICT, { input: { fraud: aFraudInput() } });
    expect(anonymous.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', scope: 'PREDICT' });
    const keyed = await wsResult(sut, PREDICT, { input: { fraud: aFraudInput() } }, key);
    expect(keyed.errors).toBeUndefined();
    expect(keyed.data.predict.id).toBeTruthy();
    const read = await wsResult(sut, `{ retrainJobs(model: "fraud") { id } }`, {}, key);
    expect(read.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'READ' });
  });

  it('rate-limits feedback per principal: RATE_LIMITED with retryAfterSeconds, HTTP 429 and Retry-After; other principals unaffected', async () => {
    const a = await createKey(sut, 'chatty', ['PREDICT', 'FEEDBACK']);
    const b = await createKey(sut, 'quiet', ['PREDICT', 'FEEDBACK']);
    const predictAs = async (key: string) => (await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, key)).body.data.predict.id as string;
    for (let i = 0; i < 5; i++) {
      const r = await post(sut, FEEDBACK, { input: { predictionId: await predictAs(a.key), correct: true } }, a.key);
      expect(r.body.errors, `feedback ${i}`).toBeUndefined();
    }
    const limited = await post(sut, FEEDBACK, { input: { predictionId: await predictAs(a.key), correct: true } }, a.key);
    expect(limited.status).toBe(429);
    expect(limited.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'feedback', max: 5 });
    const retryAfter = limited.body.errors![0]!.extensions!.retryAfterSeconds as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('retry-after')).toBe(String(retryAfter));
    const other = await post(sut, FEEDBACK, { input: { predictionId: await predictAs(b.key), correct: true } }, b.key);
    expect(other.body.errors).toBeUndefined();
  });

  it("scopes idempotency keys to the principal: A's outcome with key K never blocks B's feedback with K; B reusing K otherwise is CONFLICT", async () => {
    const a = await createKey(sut, 'outcome-writer', ['OUTCOMES']);
    const b = await createKey(sut, 'feedback-writer', ['PREDICT', 'FEEDBACK']);
    const K = 'ticket-4711';
    // The attack: A takes K first, for an outcome.
    const taken = await post(sut, OUTCOMES, { outcomes: [{ predicted: 'fraud', actual: 'legit', idempotencyKey: K }] }, a.key);
    expect(taken.body.errors).toBeUndefined();
    const predictAs = async () => (await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, b.key)).body.data.predict.id as string;
    const first = await predictAs();
    const legit = await post(sut, FEEDBACK, { input: { predictionId: first, correct: true, idempotencyKey: K } }, b.key);
    expect(legit.body.errors).toBeUndefined();
    // B's retry with K and the same parameters is the same feedback; K for another prediction is CONFLICT.
    const retry = await post(sut, FEEDBACK, { input: { predictionId: first, correct: true, idempotencyKey: K } }, b.key);
    expect(retry.body.data.submitFeedback.id).toBe(legit.body.data.submitFeedback.id);
    const reused = await post(sut, FEEDBACK, { input: { predictionId: await predictAs(), correct: true, idempotencyKey: K } }, b.key);
    expect(code(reused)).toBe('CONFLICT');
    // And A's own retry of its outcome with K is recorded once.
    const again = await post(sut, OUTCOMES, { outcomes: [{ predicted: 'fraud', actual: 'legit', idempotencyKey: K }] }, a.key);
    expect(again.body.errors).toBeUndefined();
    const rows = await sql<{ n: string }>`select count(*) as n from feedback where idempotency_key = ${K}`.execute(sut.app.orm.em.getKysely());
    expect(Number(rows.rows[0]!.n)).toBe(2);
  });

  it('takes at most MAX_OUTCOMES_PER_CALL outcomes in one call (BAD_USER_INPUT on outcomes)', async () => {
    const { key } = await createKey(sut, 'batch-job', ['OUTCOMES']);
    const row = { predicted: 'fraud', actual: 'legit' };
    const over = await post(sut, OUTCOMES, { outcomes: Array.from({ length: 11 }, () => row) }, key);
    expect(over.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'outcomes' });
    expect(over.body.errors![0]!.message).toMatch(/at most 10/);
    const within = await post(sut, OUTCOMES, { outcomes: Array.from({ length: 10 }, () => row) }, key);
    expect(within.body.errors).toBeUndefined();
    expect(within.body.data.recordOutcomes.count).toBe(10);
  });

  it('takes alert webhooks (POST /webhooks/alerts) from a key with the WEBHOOK scope, refuses one without it (401, naming why)', async () => {
    const hook = await createKey(sut, 'alertmanager', ['WEBHOOK']);
    const shop = await createKey(sut, 'shop', ['PREDICT']);
    const send = (token: string) =>
      fetch(`${sut.url}/webhooks/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(alertmanagerBody('firing', `fp-${database}-key`, { model: 'fraud', alertname: 'LowAccuracy' })),
      });
    const accepted = await send(hook.key);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ accepted: true, alerts: [{ model: 'fraud', status: 'firing' }] });
    const refused = await send(shop.key);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error).toMatch(/shop's key lacks the WEBHOOK scope/);
  });

  it('npm run simulate sends its --token: refused anonymously in keys mode, served with a key', async () => {
    const { key } = await createKey(sut, 'simulator', ['PREDICT', 'FEEDBACK']);
    const options = { model: 'fraud' as const, scenario: 'good' as const, count: 4, concurrency: 2, feedbackRate: 1, seed: 1, url: `${sut.url}/graphql` };
    const anonymous = await runSimulation(options);
    expect(anonymous.errors.UNAUTHENTICATED).toBeGreaterThan(0);
    const keyed = await runSimulation({ ...options, token: key });
    expect(keyed.errors).toEqual({});
    expect(keyed.predictionsSent).toBe(4);
  });

  it('refuses introspection when GRAPHQL_INTROSPECTION=off, over HTTP and graphql-ws', async () => {
    const http = await post(sut, `{ __schema { types { name } } }`, {}, ADMIN_TOKEN);
    expect(code(http)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(http.body.errors![0]!.message).toMatch(/introspection/i);
    const ws = await wsResult(sut, `{ __type(name: "Query") { name } }`, {}, ADMIN_TOKEN).catch((e: unknown) => ({ errors: (e as Error).message as never }));
    expect(JSON.stringify(ws.errors)).toMatch(/introspection/i);
  });

  it('audits key creation and revocation, retrain requests and the configuration at start (secrets redacted), and pushes each entry', async () => {
    const client = await wsClient(sut, ADMIN_TOKEN);
    const pushed = nextResults<{ auditEntryAdded: { kind: string; actor: string; details: any } }>(
      client,
      `subscription { auditEntryAdded(kind: "api-key.revoked") { kind actor details } }`,
      {},
      1,
    );
    // The subscription is live once an entry written after it arrives: revoke keys until one is pushed.
    const { id } = await createKey(sut, 'audited', ['READ']);
    await expect
      .poll(
        async () => {
          if (pushed.results.length === 0) await sut.gql(REVOKE_KEY, { id: (await createKey(sut, 'audited-more', ['READ'])).id }, { token: ADMIN_TOKEN });
          return pushed.results.length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    await pushed.done;
    await client.dispose();
    expect(pushed.results[0]!.auditEntryAdded).toMatchObject({ kind: 'api-key.revoked', actor: 'admin' });

    const createdEntry = async () =>
      (await sut.gql(AUDIT, { kind: 'api-key.created' }, { token: ADMIN_TOKEN })).data.auditLog.find((e: any) => e.details.keyId === id);
    await expect.poll(createdEntry, { timeout: 10_000 }).toBeTruthy();
    const entry = await createdEntry();
    expect(entry).toMatchObject({ actor: 'admin', model: null, details: { principal: 'audited', scopes: ['READ'] } });
    expect(JSON.stringify(entry)).not.toMatch(/rlk_/);

    const job = await sut.gql(`mutation { triggerRetrain(model: "spam", reason: "audit me") { id } }`, {}, { token: ADMIN_TOKEN });
    expect(job.errors).toBeUndefined();
    await expect
      .poll(async () => (await sut.gql(AUDIT, { kind: 'retrain.requested', model: 'spam' }, { token: ADMIN_TOKEN })).data.auditLog[0], { timeout: 10_000 })
      .toMatchObject({ actor: 'admin', model: 'spam', details: { jobId: job.data.triggerRetrain.id, trigger: 'manual', reason: 'audit me' } });

    const activated = await sut.gql(
      `mutation { activateModelVersion(model: "fraud", version: 1, reason: "audit the activation") { version } }`,
      {},
      { token: ADMIN_TOKEN },
    );
    expect(activated.errors).toBeUndefined();
    await expect
      .poll(async () => (await sut.gql(AUDIT, { kind: 'model.activated', model: 'fraud' }, { token: ADMIN_TOKEN })).data.auditLog[0], { timeout: 10_000 })
      .toMatchObject({ actor: 'admin', details: { version: 1, previousVersion: 1, reason: 'audit the activation' } });

    const config = (await sut.gql(AUDIT, { kind: 'config.loaded' }, { token: ADMIN_TOKEN })).data.auditLog;
    expect(config.length).toBeGreaterThanOrEqual(1);
    expect(config[0].details.settings).toMatchObject({ adminToken: '[redacted]', authMode: 'keys' });
    expect(JSON.stringify(config)).not.toContain(ADMIN_TOKEN);
  });

  it('keeps audit_entry append-only in the database itself: UPDATE, DELETE and TRUNCATE fail', async () => {
    const db = sut.app.orm.em.getKysely();
    await expect.poll(async () => Number((await sql<{ n: string }>`select count(*) as n from audit_entry`.execute(db)).rows[0]!.n)).toBeGreaterThan(0);
    await expect(sql`update audit_entry set actor = 'someone else'`.execute(db)).rejects.toThrow(/append-only: UPDATE/);
    await expect(sql`delete from audit_entry`.execute(db)).rejects.toThrow(/append-only: DELETE/);
    await expect(sql`truncate audit_entry`.execute(db)).rejects.toThrow(/append-only: TRUNCATE/);
    const actors = (await sql<{ actor: string }>`select distinct actor from audit_entry`.execute(db)).rows.map((r) => r.actor);
    expect(actors).not.toContain('someone else');
  });

  it('npm run keys: create, list and revoke through the API, with --help and usage errors', async () => {
    const run = async (...argv: string[]) => {
      let out = '';
      let err = '';
      const exit = await runKeysCli(argv, { env: { RELEARN_URL: `${sut.url}/graphql`, ADMIN_TOKEN }, out: (t) => (out += t), err: (t) => (err += t) });
      return { exit, out, err };
    };
    const help = await run('--help');
    expect(help.exit).toBe(0);
    expect(help.out).toMatch(/create --principal NAME --scope SCOPE/);
    expect((await run('create', '--principal', 'cli-made')).exit).toBe(2);
    expect((await run('create', '--principal', 'cli-made', '--scope', 'TELEPORT')).err).toMatch(/unknown scope/);

    const created = await run('create', '--principal', 'cli-made', '--scope', 'PREDICT,FEEDBACK', '--json');
    expect(created.exit, created.err).toBe(0);
    const { key, apiKey } = JSON.parse(created.out);
    expect(apiKey).toMatchObject({ principal: 'cli-made', scopes: ['PREDICT', 'FEEDBACK'] });
    expect((await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, key)).body.errors).toBeUndefined();

    const listed = await run('list');
    expect(listed.out).toMatch(new RegExp(`${apiKey.id}\\s+cli-made\\s+PREDICT,FEEDBACK`));
    const revoked = await run('revoke', apiKey.id);
    expect(revoked.exit).toBe(0);
    expect(revoked.out).toMatch(/Revoked key/);
    expect(code(await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, key))).toBe('UNAUTHENTICATED');

    // A key without ADMIN cannot manage keys from the CLI either.
    const weak = await run('list', '--token', key);
    expect(weak.exit).toBe(1);
    expect(weak.err).toMatch(/UNAUTHENTICATED/);
  });
});

describe('access with AUTH_MODE=open', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp({ database: 'embedded', env: { AUTH_MODE: 'open', TRAINER: 'off' } });
  });

  afterAll(async () => {
    await sut?.stop();
  });

  it('lets anonymous callers predict, give feedback, record outcomes and read operations; admin operations still need credentials', async () => {
    const predicted = await post(sut, PREDICT, { input: { fraud: aFraudInput() } });
    expect(predicted.body.errors).toBeUndefined();
    expect(await storedSources(sut, [predicted.body.data.predict.id])).toEqual(['anonymous']);
    expect((await post(sut, FEEDBACK, { input: { predictionId: predicted.body.data.predict.id, correct: true } })).body.errors).toBeUndefined();
    expect((await post(sut, OUTCOMES, { outcomes: [{ predicted: 'fraud', actual: 'legit' }] })).body.errors).toBeUndefined();
    expect((await post(sut, `{ alerts(model: "fraud") { id } auditLog { id } }`)).body.errors).toBeUndefined();
    const retrain = await post(sut, `mutation { triggerRetrain(model: "fraud") { id } }`);
    expect(retrain.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', scope: 'ADMIN' });
    expect(code(await post(sut, `{ apiKeys { id } }`))).toBe('UNAUTHENTICATED');
    // A bad key is refused even where anonymous callers are let in: the client should know.
    expect(code(await post(sut, PREDICT, { input: { fraud: aFraudInput() } }, `rlk_0123456789abcdef_${'b'.repeat(43)}`))).toBe('UNAUTHENTICATED');
  });
});
