import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setInterval as every, setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, createDatabase } from '../../../scripts/services/postgres.js';
import { startRelearnProcess, waitForOutput, type RelearnProcess } from '../processes.js';
import { startRestartablePostgres, type RestartablePostgres } from '../restartable-postgres.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { ADMIN_TOKEN, PREDICT_FRAUD, SUBMIT_FEEDBACK } from '../test-app.js';

/**
 * PostgreSQL stopped (fast, then immediate: a crash) and started again, five times in a row,
 * under predict + feedback load on two API processes; then one API cut off from the database
 * while the other rolls back and learns. Nothing may crash, clients get a typed retryable error
 * while the database is away, and everything resumes — and catches up — by itself.
 */

const RESTARTS = 5;
const WORKERS_PER_API = 4;
/** Client retry delay after a failed request (clients would honour Retry-After; shorter here to measure recovery). */
const RETRY_DELAY_MS = 100;
const MERCHANTS = ['grocery', 'electronics', 'travel', 'jewelry', 'restaurant'];
const WORDS = ['free', 'money', 'meeting', 'tomorrow', 'click', 'prize', 'report', 'invoice', 'lunch', 'winner', 'project', 'offer'];

type Api = { name: string; url: string; process: RelearnProcess };
type Answer = { status: number; retryAfter: string | null; body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };

function randomInput(i: number) {
  if (i % 3 === 2) {
    const text = Array.from({ length: 6 }, () => WORDS[Math.floor(Math.random() * WORDS.length)]).join(' ');
    return { model: 'spam', input: { spam: { text } }, labels: ['spam', 'ham'] };
  }
  return {
    model: 'fraud',
    input: {
      fraud: {
        amount: Math.round(Math.random() * 3000 * 100) / 100,
        hour: Math.floor(Math.random() * 24),
        dayOfWeek: Math.floor(Math.random() * 7),
        merchantCategory: MERCHANTS[Math.floor(Math.random() * MERCHANTS.length)],
        previousAmount: Math.round(Math.random() * 500),
        timeSinceLast: Math.round(Math.random() * 48 * 10) / 10,
      },
    },
    labels: ['fraud', 'legit'],
  };
}

async function post(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Answer['body'] };
}

async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

describe('PostgreSQL restarts under load', () => {
  let pgDir: string;
  let dataDir: string;
  let pg: RestartablePostgres;
  let proxy: TcpProxy;
  let dbUrl: string;
  const apis: Api[] = [];
  const processes: RelearnProcess[] = [];
  const wsClients: Client[] = [];

  const startApi = async (name: string, databaseUrl: string) => {
    const p = startRelearnProcess('main', {
      DATABASE_URL: databaseUrl,
      AUTH_MODE: 'open',
      RATE_LIMITS: 'off',
      DATA_DIR: dataDir,
      PORT: '0',
      ADMIN_TOKEN,
      TRAINER: 'off',
      METRICS_PUSH_INTERVAL_MS: '100',
      LOG_LEVEL: 'info',
    });
    processes.push(p);
    await waitForOutput(p, /all models live: ready to predict/, 120_000);
    const url = /GraphQL \+ GraphiQL\s+(http:\/\/[\d.:]+)\/graphql/.exec(p.output())![1]!;
    const api = { name, url, process: p };
    apis.push(api);
    return api;
  };

  beforeAll(async () => {
    pgDir = await mkdtemp(path.join(tmpdir(), 'relearn-pgrestart-'));
    dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-pgrestart-data-'));
    pg = await startRestartablePostgres(pgDir);
    dbUrl = await createDatabase(pg.url, 'relearn_restart');
    // API 1 reaches PostgreSQL through a proxy the test can cut (a partition of API 1 alone).
    proxy = await startTcpProxy(dbUrl);
    const viaProxy = new URL(dbUrl);
    viaProxy.port = String(proxy.port);
    await startApi('api1', viaProxy.toString()); // bootstraps the models
    await startApi('api2', dbUrl);

    // A second fraud version to roll back to later: one retrain, run by a trainer that then leaves.
    const job = await post(apis[1]!.url, `mutation { triggerRetrain(model: "fraud", reason: "a second version") { id } }`, {}, ADMIN_TOKEN);
    expect(job.body.errors).toBeUndefined();
    const trainer = startRelearnProcess('trainer', { DATABASE_URL: dbUrl, AUTH_MODE: 'open', DATA_DIR: dataDir, PORT: '0', ADMIN_TOKEN, LOG_LEVEL: 'info' });
    processes.push(trainer);
    await until(
      async () => {
        const r = await post(apis[1]!.url, `{ retrainJobs(model: "fraud") { id state } }`, {});
        return r.body.data?.retrainJobs.some((j: any) => /PROMOTED|REJECTED/.test(j.state));
      },
      'the retrain',
      120_000,
    );
    await trainer.stop();
  }, 300_000);

  afterAll(async () => {
    await Promise.all(wsClients.map((c) => c.dispose()));
    await Promise.all(processes.map((p) => (p.child.exitCode === null ? p.kill() : undefined)));
    await proxy?.close();
    await pg?.close();
    await rm(pgDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('5 restarts (fast and immediate): no exit, 503 SERVICE_UNAVAILABLE while down, recovery within 5 s, /metrics throughout, subscriptions and cross-process activation and learning resume, lost 0 duplicated 0', async () => {
    const [api1, api2] = apis as [Api, Api];
    const versionOf = async (api: Api) => (await post(api.url, `{ modelVersions(model: "fraud") { version status } }`, {})).body.data.modelVersions;
    const live = (await versionOf(api2)).find((v: any) => v.status === 'LIVE').version as number;

    // --- what clients see, all the time ---
    let outage: string | null = null; // the phase while the database is away, else null
    const errorsByPhase = new Map<string, Map<string, number>>();
    const countError = (key: string) => {
      const phase = outage ?? 'database up';
      const m = errorsByPhase.get(phase) ?? new Map<string, number>();
      m.set(key, (m.get(key) ?? 0) + 1);
      errorsByPhase.set(phase, m);
    };
    const unavailable = new Map<string, number>(); // per API, SERVICE_UNAVAILABLE answers seen
    const badRetryAfter: number[] = [];
    const describeFailure = (api: Api, a: Answer) => {
      const code = a.body.errors?.[0]?.extensions?.code ?? 'NONE';
      if (code === 'SERVICE_UNAVAILABLE') {
        unavailable.set(api.name, (unavailable.get(api.name) ?? 0) + 1);
        if (a.status !== 503 || !a.retryAfter) badRetryAfter.push(a.status);
      }
      countError(`${a.status} ${code}`);
    };

    /** One GraphQL call, retried (same variables, so the same idempotencyKey) until it succeeds. */
    let stopping = false;
    const retried = async (api: Api, query: string, variables: Record<string, unknown>) => {
      for (let attempt = 0; attempt < 2000; attempt++) {
        let a: Answer;
        try {
          a = await post(api.url, query, variables);
        } catch (error) {
          countError(`transport ${(error as Error).message}`);
          await sleep(RETRY_DELAY_MS);
          continue;
        }
        if (!a.body.errors?.length) return a.body.data;
        describeFailure(api, a);
        if (stopping && a.body.errors[0]?.extensions?.code !== 'SERVICE_UNAVAILABLE') return null;
        await sleep(RETRY_DELAY_MS);
      }
      throw new Error(`${api.name}: no success in 2000 attempts`);
    };

    // Acknowledged feedback: idempotency key -> feedback id.
    const acknowledged = new Map<string, string>();
    let served = 0;
    const workers = apis.flatMap((api) =>
      Array.from({ length: WORKERS_PER_API }, async (_, w) => {
        for (let i = w; !stopping; i++) {
          const { input, labels } = randomInput(i);
          const p = await retried(api, PREDICT_FRAUD, { input });
          if (!p) break;
          served++;
          const key = randomUUID();
          const actual = labels[Math.floor(Math.random() * 2)];
          const f = await retried(api, SUBMIT_FEEDBACK, { input: { predictionId: p.predict.id, actual, idempotencyKey: key } });
          if (f) acknowledged.set(key, f.submitFeedback.id);
        }
      }),
    );

    // /metrics scraped on both APIs every 200 ms for the whole run.
    const scrapes = { ok: 0, failed: [] as string[], slowestMs: 0 };
    const scraping = (async () => {
      // A scrape cadence (as Prometheus scrapes), not a wait for anything.
      for await (const _tick of every(200)) {
        if (stopping) break;
        await Promise.all(
          apis.map(async (api) => {
            const started = Date.now();
            try {
              const res = await fetch(`${api.url}/metrics`, { signal: AbortSignal.timeout(5000) });
              const text = await res.text();
              if (res.status === 200 && text.includes('process_cpu_seconds_total')) scrapes.ok++;
              else scrapes.failed.push(`${api.name} ${res.status}`);
            } catch (error) {
              scrapes.failed.push(`${api.name} ${(error as Error).message}`);
            }
            scrapes.slowestMs = Math.max(scrapes.slowestMs, Date.now() - started);
          }),
        );
      }
    })();

    // A metricsUpdated subscriber on each API.
    const pushes = new Map<string, number[]>(apis.map((a) => [a.name, []]));
    for (const api of apis) {
      const client = createClient({ url: `${api.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      wsClients.push(client);
      client.subscribe<any>(
        { query: `subscription { metricsUpdated(model: "fraud") { feedbackCount } }` },
        { next: (r) => r.data && pushes.get(api.name)!.push(Date.now()), error: () => {}, complete: () => {} },
      );
    }

    const figures: Record<string, unknown>[] = [];
    const firstSuccess = async (api: Api, since: number) => {
      await until(
        async () => {
          const a = await post(api.url, PREDICT_FRAUD, { input: randomInput(0).input }).catch(() => null);
          return a !== null && !a.body.errors?.length;
        },
        `a prediction on ${api.name}`,
        30_000,
      );
      return Date.now() - since;
    };

    for (let i = 0; i < RESTARTS; i++) {
      const mode = i % 2 === 0 ? 'fast' : 'immediate';
      // Load flowing before each stop.
      const before = acknowledged.size;
      await until(() => acknowledged.size >= before + 30, 'feedback before the stop', 60_000);
      const seen = new Map(unavailable);

      outage = `restart ${i + 1} (${mode})`;
      const stoppedAt = Date.now();
      await pg.stop(mode);
      // Down until both APIs have answered SERVICE_UNAVAILABLE, and at least 1.5 s.
      await until(() => apis.every((a) => (unavailable.get(a.name) ?? 0) > (seen.get(a.name) ?? 0)), 'SERVICE_UNAVAILABLE from both APIs', 30_000);
      for (const api of apis) {
        const ready = await fetch(`${api.url}/readyz`);
        expect(ready.status).toBe(503);
        expect(((await ready.json()) as any).checks.database).toBe(false);
      }
      await sleep(Math.max(0, 1500 - (Date.now() - stoppedAt)));
      await pg.start();
      const acceptingAt = Date.now();
      outage = null;

      const [ms1, ms2] = await Promise.all([firstSuccess(api1, acceptingAt), firstSuccess(api2, acceptingAt)]);
      const [push1, push2] = await Promise.all(
        apis.map((api) => until(() => pushes.get(api.name)!.find((t) => t > acceptingAt), `a metricsUpdated push on ${api.name}`, 30_000)),
      );
      for (const api of apis) {
        expect(api.process.child.exitCode).toBeNull();
        await until(async () => (await fetch(`${api.url}/readyz`)).status === 200, `${api.name} ready again`, 30_000);
      }
      figures.push({
        restart: `${i + 1} (${mode})`,
        downMs: acceptingAt - stoppedAt,
        errors: Object.fromEntries(errorsByPhase.get(`restart ${i + 1} (${mode})`) ?? []),
        firstPredictionMs: { api1: ms1, api2: ms2 },
        firstPushMs: { api1: push1! - acceptingAt, api2: push2! - acceptingAt },
      });
      expect(ms1).toBeLessThan(5000);
      expect(ms2).toBeLessThan(5000);
    }

    // --- API 1 cut off from PostgreSQL (its LISTEN too); API 2 rolls back and keeps learning ---
    outage = 'api1 partitioned';
    const seen1 = unavailable.get('api1') ?? 0;
    await proxy.down();
    await until(() => (unavailable.get('api1') ?? 0) > seen1, 'SERVICE_UNAVAILABLE from API 1', 30_000);
    const target = live === 1 ? 2 : 1;
    const activated = await post(
      api2.url,
      `mutation($v: Int!) { activateModelVersion(model: "fraud", version: $v, reason: "rollback during a partition") { version status } }`,
      { v: target },
      ADMIN_TOKEN,
    );
    expect(activated.body.errors).toBeUndefined();
    const during = acknowledged.size;
    await until(() => acknowledged.size >= during + 30, 'feedback on API 2 during the partition', 60_000);
    await proxy.up();
    const healedAt = Date.now();
    outage = null;
    const servedVersion = async (api: Api) => (await post(api.url, PREDICT_FRAUD, { input: randomInput(0).input })).body.data?.predict.modelVersion.version;
    await until(async () => (await servedVersion(api1)) === target, `API 1 serving version ${target}`, 15_000);
    const partitionRecoveryMs = Date.now() - healedAt;

    stopping = true;
    await Promise.all(workers);
    await scraping;

    // Both processes learned the same feedback into the same version: the same probabilities, up
    // to float rounding (each process adds the same rows in its own order). One row learned twice or
    // missed moves them by orders of magnitude more than 1e-9.
    const probes = [0, 1, 2, 3, 4, 5].map((i) => randomInput(i).input);
    type Scores = { label: string; probability: number }[];
    const scoresOf = async (api: Api): Promise<Scores[]> =>
      Promise.all(probes.map(async (input) => (await post(api.url, PREDICT_FRAUD, { input })).body.data.predict.scores as Scores));
    const largestDifference = (a: Scores[], b: Scores[]) =>
      Math.max(...a.flatMap((s, i) => s.map((x, j) => (x.label === b[i]![j]!.label ? Math.abs(x.probability - b[i]![j]!.probability) : Infinity))));
    let difference = Infinity;
    await expect
      .poll(async () => (difference = largestDifference(await scoresOf(api1), await scoresOf(api2))), { timeout: 10_000, interval: 100 })
      .toBeLessThanOrEqual(1e-9);

    // Acknowledged feedback against the rows.
    const db = await connectPg(dbUrl);
    const keys = [...acknowledged.keys()];
    const stored = await db.query<{ key: string; n: string }>(
      'select idempotency_key as key, count(*) as n from feedback where idempotency_key = any($1) group by idempotency_key',
      [keys],
    );
    const twice = await db.query<{ n: string }>('select count(*) as n from (select prediction_id from feedback group by prediction_id having count(*) > 1) d');
    await db.end();
    const lost = keys.length - stored.rows.length;
    const duplicated = stored.rows.filter((r) => Number(r.n) > 1).length + Number(twice.rows[0]!.n);

    const summary = {
      restarts: figures,
      partition: { errors: Object.fromEntries(errorsByPhase.get('api1 partitioned') ?? []), recoveryMs: partitionRecoveryMs },
      errorsWhileUp: Object.fromEntries(errorsByPhase.get('database up') ?? []),
      served,
      acknowledgedFeedback: keys.length,
      lost,
      duplicated,
      metricsScrapes: { ok: scrapes.ok, failed: scrapes.failed.length, slowestMs: scrapes.slowestMs },
      largestProbabilityDifference: difference,
    };
    console.log(`[postgres-restart] ${JSON.stringify(summary, null, 2)}`);

    for (const api of apis) {
      expect(api.process.child.exitCode, `${api.name} exited:\n${api.process.output().slice(-3000)}`).toBeNull();
      expect(api.process.output()).not.toMatch(/Unhandled|unexpected error in a resolver/);
    }
    const codes = new Set([...errorsByPhase.values()].flatMap((m) => [...m.keys()]));
    expect([...codes].filter((c) => c !== '503 SERVICE_UNAVAILABLE')).toEqual([]);
    expect(badRetryAfter).toEqual([]);
    expect(scrapes.failed).toEqual([]);
    expect(difference).toBeLessThanOrEqual(1e-9);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
  });
});
