// Crash accounting: an API process on PostgreSQL under predict + feedback load from several clients
// is killed (kill -9, and separately SIGTERM) several times and restarted; clients retry feedback
// with the same idempotencyKey until it is acknowledged. Afterwards, from the database: nothing
// acknowledged is missing (lost), nothing is stored twice (duplicated), every retry of an
// acknowledged feedback returned the same row, and the metrics query agrees with the rows.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, type PgClient } from '../../../scripts/services/postgres.js';
import { freePort } from '../../../scripts/services/background-process.js';
import { freshDatabaseUrl } from '../database.js';
import { startRelearnProcess, waitForOutput, type RelearnProcess } from '../processes.js';
import { ADMIN_TOKEN, aFraudInput } from '../test-app.js';

const CLIENTS = 4;
/** The faults, in order: four crashes and two graceful stops, interleaved. */
const RUNS: ('SIGKILL' | 'SIGTERM')[] = ['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGKILL', 'SIGTERM', 'SIGKILL'];
/** Feedback acknowledged since the last restart before the next fault. */
const FEEDBACK_PER_RUN = 300;
/** Codes a client may retry: the process is starting, or its database is away. */
const RETRYABLE = new Set(['MODEL_NOT_READY', 'SERVICE_UNAVAILABLE']);

const PREDICT = `mutation($input: PredictInput!) { predict(input: $input) { id model } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id actual correct prediction { id } } }`;
const METRICS = `query($model: String!) { metrics(model: $model) { predictionCount feedbackCount accuracy confusion { tp tn fp fn } } }`;

interface AckedFeedback {
  id: number;
  predictionId: string;
  actual: string;
}

class Transient extends Error {}

describe('crash accounting: kill -9 and SIGTERM under load', () => {
  let databaseUrl: string;
  let dataDir: string;
  let port: number;
  let api: RelearnProcess | null = null;
  let db: PgClient;
  const env = () => ({
    DATABASE_URL: databaseUrl,
    AUTH_MODE: 'open',
    RATE_LIMITS: 'off',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: '5000',
  });

  const start = async () => {
    const p = startRelearnProcess('main', { ...env(), LOG_LEVEL: 'info' });
    api = p;
    await waitForOutput(p, /all models live: ready to predict/, 120_000);
    return p;
  };

  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl('crash_accounting');
    dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-crash-'));
    port = await freePort();
    db = await connectPg(databaseUrl);
    await start();
  }, 180_000);

  afterAll(async () => {
    await api?.kill();
    await db?.end();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('loses 0 acknowledged writes and duplicates 0 across crashes and graceful stops, and the metrics agree with the rows', async () => {
    const url = `http://127.0.0.1:${port}/graphql`;
    /** One GraphQL request; network failures and retryable codes throw Transient, anything else fails the run. */
    const unexpected: string[] = [];
    let retries = 0;
    const call = async (query: string, variables: Record<string, unknown>) => {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        throw new Transient((error as Error).message);
      }
      const body = (await res.json().catch(() => null)) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } | null;
      if (body?.errors?.length) {
        const code = body.errors[0]!.extensions?.code ?? '';
        if (RETRYABLE.has(code)) throw new Transient(code);
        unexpected.push(`${code}: ${body.errors[0]!.message}`);
        throw new Error(`${code}: ${body.errors[0]!.message}`);
      }
      if (!res.ok || !body?.data) throw new Transient(`HTTP ${res.status}`);
      return body.data;
    };
    /** Retries a request until it is acknowledged (bounded: the test's own deadline). */
    const untilAcknowledged = async <T>(send: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await send();
        } catch (error) {
          if (!(error instanceof Transient) || Date.now() > testDeadline) throw error;
          retries++;
          await new Promise((r) => setTimeout(r, Math.min(500, 25 * 2 ** Math.min(attempt, 5))));
        }
      }
    };

    const testDeadline = Date.now() + 240_000;
    const ackedPredictions = new Set<string>();
    const ackedFeedback = new Map<string, AckedFeedback>();
    let replays = 0;
    const replayMismatches: string[] = [];
    let loadRunning = true;

    const client = async (n: number) => {
      for (let i = 0; loadRunning && i < 1_000_000; i++) {
        const spam = i % 2 === 1;
        const input = spam
          ? { spam: { text: `client ${n} message ${i} ${i % 3 ? 'win money now' : 'meeting agenda'}` } }
          : { fraud: aFraudInput({ amount: 10 + ((i * 37 + n) % 2000), hour: i % 24 }) };
        const prediction = (await untilAcknowledged(() => call(PREDICT, { input }))).predict as { id: string };
        ackedPredictions.add(prediction.id);
        const key = `client-${n}-feedback-${i}`;
        const feedback = { predictionId: prediction.id, correct: i % 3 !== 0, idempotencyKey: key };
        const acked = (await untilAcknowledged(() => call(FEEDBACK, { input: feedback }))).submitFeedback;
        ackedFeedback.set(key, { id: Number(acked.id), predictionId: prediction.id, actual: acked.actual });
        // A client that never saw its answer sends the same feedback again: it must get the same row.
        if (i % 10 === 0) {
          const again = (await untilAcknowledged(() => call(FEEDBACK, { input: feedback }))).submitFeedback;
          replays++;
          if (Number(again.id) !== Number(acked.id)) replayMismatches.push(`${key}: ${acked.id} then ${again.id}`);
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    let clientsFailed: unknown = null;
    const clientsDone = Promise.all(clients).catch((error: unknown) => {
      clientsFailed = error;
      loadRunning = false;
    });

    const exits: { signal: string; code: number | null }[] = [];
    for (const signal of RUNS) {
      const before = ackedFeedback.size;
      await expect.poll(() => clientsFailed ?? ackedFeedback.size - before, { timeout: 120_000, interval: 50 }).toBeGreaterThanOrEqual(FEEDBACK_PER_RUN);
      const p = api!;
      const exited = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
      p.child.kill(signal);
      exits.push({ signal, code: await exited });
      await start();
    }
    // Let every client finish its current write against the last process, then stop them.
    loadRunning = false;
    await clientsDone;
    expect(clientsFailed, `unexpected errors: ${unexpected.slice(0, 5).join('; ')}`).toBeNull();

    // Accounting, from the database.
    const predictionIds = [...ackedPredictions];
    const { rows: foundPredictions } = await db.query<{ n: string }>('select count(*) as n from prediction where id = any($1::uuid[])', [predictionIds]);
    const lostPredictions = predictionIds.length - Number(foundPredictions[0]!.n);
    const { rows: stored } = await db.query<{ id: string; idempotency_key: string; prediction_id: string; actual: string }>(
      'select id, idempotency_key, prediction_id, actual from feedback where idempotency_key = any($1::text[])',
      [[...ackedFeedback.keys()]],
    );
    const storedByKey = new Map(stored.map((r) => [r.idempotency_key, r]));
    const lostFeedback = [...ackedFeedback].filter(([key, a]) => {
      const row = storedByKey.get(key);
      return !row || Number(row.id) !== a.id || row.prediction_id !== a.predictionId || row.actual !== a.actual;
    });
    const { rows: dupKeys } = await db.query<{ n: string }>(
      'select count(*) as n from (select idempotency_key from feedback where idempotency_key is not null group by 1 having count(*) > 1) d',
    );
    const { rows: dupPredictions } = await db.query<{ n: string }>(
      'select count(*) as n from (select prediction_id from feedback where prediction_id is not null group by 1 having count(*) > 1) d',
    );
    const { rows: allFeedback } = await db.query<{ n: string }>('select count(*) as n from feedback');
    const duplicated = Number(dupKeys[0]!.n) + Number(dupPredictions[0]!.n);
    // Clients retried every feedback until acknowledged: the table holds exactly the acknowledged ones.
    const unacknowledgedRows = Number(allFeedback[0]!.n) - ackedFeedback.size;

    console.error(
      `[crash accounting] runs: ${RUNS.length} (${RUNS.filter((s) => s === 'SIGKILL').length} kill -9, ${RUNS.filter((s) => s === 'SIGTERM').length} SIGTERM), ` +
        `clients: ${CLIENTS}, acknowledged predictions: ${ackedPredictions.size}, acknowledged feedback: ${ackedFeedback.size}, ` +
        `replayed after acknowledgement: ${replays}, client retries: ${retries}, ` +
        `lost: ${lostPredictions + lostFeedback.length}, duplicated: ${duplicated}, replay mismatches: ${replayMismatches.length}, ` +
        `feedback rows not acknowledged: ${unacknowledgedRows}; exits: ${exits.map((e) => `${e.signal}->${e.code}`).join(' ')}`,
    );
    expect(lostPredictions).toBe(0);
    expect(lostFeedback.slice(0, 5)).toEqual([]);
    expect(duplicated).toBe(0);
    expect(replayMismatches).toEqual([]);
    expect(unacknowledgedRows).toBe(0);
    expect(unexpected).toEqual([]);
    // A graceful stop under load finishes cleanly.
    for (const e of exits.filter((x) => x.signal === 'SIGTERM')) expect(e.code).toBe(0);

    // The metrics query agrees with the rows (lifetime window; the metrics cache is short-lived).
    for (const model of ['fraud', 'spam']) {
      const { rows } = await db.query<{ predictions: string; feedback: string; correct: string }>(
        `select (select count(*) from prediction where model = $1) as predictions,
                (select count(*) from feedback where model = $1) as feedback,
                (select count(*) from feedback where model = $1 and correct) as correct`,
        [model],
      );
      const truth = { predictions: Number(rows[0]!.predictions), feedback: Number(rows[0]!.feedback), correct: Number(rows[0]!.correct) };
      await expect
        .poll(
          async () => {
            const m = (await call(METRICS, { model })).metrics;
            return {
              predictions: m.predictionCount,
              feedback: m.feedbackCount,
              correct: m.confusion.tp + m.confusion.tn,
              all: m.confusion.tp + m.confusion.tn + m.confusion.fp + m.confusion.fn,
            };
          },
          { timeout: 10_000, interval: 200 },
        )
        .toEqual({ ...truth, all: truth.feedback });
    }
  });
});
