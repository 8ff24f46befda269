// The embedded default under mixed traffic: `npm start`'s own PGlite (no DATABASE_URL) serving
// predict, predictBatch, feedback, outcomes, metrics queries, a subscription, a retrain every
// ~30 s and alert webhooks for SOAK_SECONDS (120 by default; `SOAK_SECONDS=600 npm run
// test:reliability` for the 10-minute run). Every request has a client timeout; afterwards:
// 0 internal errors, 0 requests without an answer, and SIGTERM exits 0 within its deadline.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SHUTDOWN_MARGIN_MS } from '../../src/app.js';
import { startRelearnProcess, waitForOutput, type RelearnProcess } from '../processes.js';
import { ADMIN_TOKEN, PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput } from '../test-app.js';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const WEBHOOK_TOKEN = 'soak-webhook-token-0123456789';
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** A request unanswered this long counts as "no answer" (generous: two shared cores, a retrain beside). */
const CLIENT_TIMEOUT_MS = 30_000;
const RETRAIN_EVERY_MS = 30_000;
const ALERT_EVERY_MS = 20_000;
// Process exit and the test's own event loop on a loaded machine; not a speed claim.
const EXIT_SLACK_MS = 5_000;

type Kind = 'predict' | 'predictBatch' | 'submitFeedback' | 'recordOutcomes' | 'metrics' | 'retrainJobs' | 'triggerRetrain' | 'alertWebhook';

const SPAM_TEXTS = ['FREE money!!! Click here to claim your prize', 'Meeting moved to 3pm, see agenda attached', 'cheap meds online now', 'lunch tomorrow?'];

describe('the embedded database under a soak', () => {
  let api: RelearnProcess | null = null;
  let dataDir = '';
  afterAll(async () => {
    await api?.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `serves ${SOAK_SECONDS} s of mixed traffic with no internal error and no unanswered request, then stops cleanly on SIGTERM`,
    async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'relearn-soak-'));
      // `npm start`'s defaults: no DATABASE_URL, no S3, no MLflow — everything embedded.
      api = startRelearnProcess('main', {
        DATABASE_URL: '',
        S3_ENDPOINT: '',
        MLFLOW_TRACKING_URI: '',
        TASKS: '',
        DATA_DIR: dataDir,
        PORT: '0',
        ADMIN_TOKEN,
        WEBHOOK_TOKEN,
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        // One anonymous client at full speed passes the per-principal feedback limit (6,000 a
        // minute) on a quiet machine; the limits have their own tests (access tests).
        RATE_LIMITS: 'off',
      });
      await waitForOutput(api, /all models live: ready to predict/, 180_000);
      expect(api.output()).toMatch(/embedded PostgreSQL \(PGlite\) started/);
      const url = /GraphQL \+ GraphiQL\s+(http:\/\/[\d.:]+)\/graphql/.exec(api.output())![1]!;

      const counts = new Map<Kind, number>();
      const latencies: number[] = [];
      const latencyByKind = new Map<Kind, number[]>();
      const internal: string[] = [];
      const otherErrors: string[] = [];
      let unanswered = 0;

      /** One request: counted, timed, and classified by its answer. */
      async function request<T = any>(kind: Kind, send: (signal: AbortSignal) => Promise<Response>, pick: (json: any) => T): Promise<T | null> {
        const started = performance.now();
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        let res: Response;
        let json: any;
        try {
          res = await send(AbortSignal.timeout(CLIENT_TIMEOUT_MS));
          json = await res.json();
        } catch (error) {
          if ((error as Error).name === 'TimeoutError') unanswered++;
          else internal.push(`${kind}: ${(error as Error).message}`);
          return null;
        }
        const ms = performance.now() - started;
        latencies.push(ms);
        (latencyByKind.get(kind) ?? latencyByKind.set(kind, []).get(kind)!).push(ms);
        const errors: any[] = json?.errors ?? [];
        if (res.status >= 500 || errors.some((e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR')) {
          internal.push(`${kind}: HTTP ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
          return null;
        }
        if (res.status >= 400 || errors.length > 0) {
          otherErrors.push(`${kind}: HTTP ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
          return null;
        }
        return pick(json);
      }
      const gql = <T = any>(kind: Kind, query: string, variables: Record<string, unknown>, pick: (data: any) => T, token?: string) =>
        request(
          kind,
          (signal) =>
            fetch(`${url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
              body: JSON.stringify({ query, variables }),
              signal,
            }),
          (json) => pick(json.data),
        );

      const endAt = Date.now() + SOAK_SECONDS * 1000;
      const running = () => Date.now() < endAt;
      // Bounded in time and in count (each loop also stops after this many rounds).
      const MAX_ROUNDS = 1_000_000;
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

      const predictAndFeedback = async (worker: number) => {
        for (let i = 0; running() && i < MAX_ROUNDS; i++) {
          const spam = i % 2 === 1;
          const input = spam
            ? { spam: { text: `${SPAM_TEXTS[i % SPAM_TEXTS.length]} ${worker}-${i}` } }
            : { fraud: aFraudInput({ amount: 5 + ((worker * 37 + i) % 3000), hour: i % 24 }) };
          const predicted = await gql('predict', PREDICT_FRAUD, { input }, (d) => d.predict);
          if (predicted && i % 3 !== 2) {
            await gql(
              'submitFeedback',
              SUBMIT_FEEDBACK,
              { input: { predictionId: predicted.id, correct: i % 4 !== 0, idempotencyKey: `soak-${worker}-${i}` } },
              (d) => d.submitFeedback,
            );
          }
        }
      };
      const predictBatches = async () => {
        for (let i = 0; running() && i < MAX_ROUNDS; i++) {
          const inputs = Array.from({ length: 5 }, (_, k) =>
            k % 2 ? { spam: { text: `${SPAM_TEXTS[k % 4]} batch ${i}` } } : { fraud: aFraudInput({ amount: 1 + 100 * k + i }) },
          );
          await gql('predictBatch', `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label } }`, { inputs }, (d) => d.predictBatch);
        }
      };
      const outcomes = async () => {
        for (let i = 0; running() && i < MAX_ROUNDS; i++) {
          const batch = Array.from({ length: 3 }, (_, k) => ({
            predicted: k ? 'legit' : 'fraud',
            actual: (i + k) % 3 ? 'legit' : 'fraud',
            idempotencyKey: `soak-outcome-${i}-${k}`,
          }));
          await gql(
            'recordOutcomes',
            `mutation($o: [OutcomeInput!]!) { recordOutcomes(model: "fraud", outcomes: $o) { count } }`,
            { o: batch },
            (d) => d.recordOutcomes,
          );
          await pause(20);
        }
      };
      const readers = async () => {
        for (let i = 0; running() && i < MAX_ROUNDS; i++) {
          const model = i % 2 ? 'spam' : 'fraud';
          await gql(
            'metrics',
            `query($m: String!) { metrics(model: $m) { accuracy predictionCount feedbackCount liveVersion { version } } }`,
            { m: model },
            (d) => d.metrics,
          );
          await gql('retrainJobs', `query($m: String!) { retrainJobs(model: $m, limit: 5) { id state } }`, { m: model }, (d) => d.retrainJobs);
          await pause(50);
        }
      };
      const retrains = async () => {
        for (let i = 0; running() && i < MAX_ROUNDS; i++) {
          await pause(Math.min(RETRAIN_EVERY_MS, Math.max(0, endAt - Date.now())));
          if (!running()) break;
          await gql(
            'triggerRetrain',
            `mutation($m: String!) { triggerRetrain(model: $m, reason: "soak") { id } }`,
            { m: i % 2 ? 'spam' : 'fraud' },
            (d) => d.triggerRetrain,
            ADMIN_TOKEN,
          );
        }
      };
      const alerts = async () => {
        for (let i = 0; running() && i < MAX_ROUNDS; i++) {
          await pause(Math.min(ALERT_EVERY_MS, Math.max(0, endAt - Date.now())));
          if (!running()) break;
          for (const status of ['firing', 'resolved'] as const) {
            const labels = { alertname: 'RelearnModelAccuracyLow', model: i % 2 ? 'fraud' : 'spam', action: 'retrain' };
            const body = {
              version: '4',
              status,
              receiver: 'relearn',
              groupKey: `soak-${i}`,
              alerts: [{ status, labels, annotations: {}, startsAt: new Date().toISOString(), fingerprint: `soak-${i}` }],
            };
            await request(
              'alertWebhook',
              (signal) =>
                fetch(`${url}/webhooks/alerts`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
                  body: JSON.stringify(body),
                  signal,
                }),
              (json) => json,
            );
          }
        }
      };

      // A live dashboard: metrics pushed over graphql-ws for the whole soak.
      const ws = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      let pushes = 0;
      const subscriptionErrors: string[] = [];
      const unsubscribe = ws.subscribe(
        { query: `subscription { metricsUpdated(model: "fraud") { predictionCount } }` },
        {
          next: (r) => (r.errors ? subscriptionErrors.push(JSON.stringify(r.errors)) : pushes++),
          error: (e) => subscriptionErrors.push(e instanceof Error ? e.message : JSON.stringify(e)),
          complete: () => {},
        },
      );

      const started = Date.now();
      await Promise.all([predictAndFeedback(0), predictAndFeedback(1), predictAndFeedback(2), predictBatches(), outcomes(), readers(), retrains(), alerts()]);
      const elapsedS = (Date.now() - started) / 1000;
      unsubscribe();
      await ws.dispose();

      // Every retrain asked for ran to an end (none stuck in the queue).
      const jobs: any[] = [];
      for (const model of ['fraud', 'spam']) {
        const deadline = Date.now() + 120_000;
        let list: any[] = [];
        do {
          list = (await gql('retrainJobs', `query($m: String!) { retrainJobs(model: $m, limit: 100) { id state } }`, { m: model }, (d) => d.retrainJobs)) ?? [];
          if (list.every((j) => ['PROMOTED', 'REJECTED', 'FAILED'].includes(j.state))) break;
          await pause(250);
        } while (Date.now() < deadline);
        jobs.push(...list);
      }

      const stopStarted = Date.now();
      const code = await api.stop();
      const stopMs = Date.now() - stopStarted;

      const pct = (xs: number[], p: number) => {
        const s = [...xs].sort((a, b) => a - b);
        return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!) : NaN;
      };
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const logErrors = api
        .output()
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l) || /prepared statement|bind message supplies/.test(l));
      const report = [
        `embedded soak: ${elapsedS.toFixed(0)} s, ${total} requests (${(total / elapsedS).toFixed(0)}/s), internal errors ${internal.length}, other errors ${otherErrors.length}, without an answer ${unanswered}`,
        ...[...counts].map(
          ([kind, n]) =>
            `  ${kind.padEnd(15)} ${String(n).padStart(7)}   p50 ${pct(latencyByKind.get(kind) ?? [], 50)} ms   p99 ${pct(latencyByKind.get(kind) ?? [], 99)} ms`,
        ),
        `  all             ${String(total).padStart(7)}   p50 ${pct(latencies, 50)} ms   p99 ${pct(latencies, 99)} ms`,
        `  subscription pushes ${pushes}, subscription errors ${subscriptionErrors.length}`,
        `  retrain jobs ${jobs.length}: ${JSON.stringify(jobs.reduce((m: Record<string, number>, j) => ((m[j.state] = (m[j.state] ?? 0) + 1), m), {}))}`,
        `  SIGTERM: exit code ${code} after ${stopMs} ms (deadline ${SHUTDOWN_TIMEOUT_MS + SHUTDOWN_MARGIN_MS} ms)`,
        `  error-level log lines ${logErrors.length}`,
      ].join('\n');
      console.log(report);
      for (const line of [...internal, ...otherErrors, ...subscriptionErrors, ...logErrors].slice(0, 20)) console.log(`  ! ${line.slice(0, 500)}`);

      expect(internal).toEqual([]);
      expect(unanswered).toBe(0);
      expect(otherErrors).toEqual([]);
      expect(subscriptionErrors).toEqual([]);
      expect(pushes).toBeGreaterThan(0);
      expect(logErrors).toEqual([]);
      expect(counts.get('triggerRetrain') ?? 0).toBeGreaterThanOrEqual(Math.floor(SOAK_SECONDS / (RETRAIN_EVERY_MS / 1000)) - 1);
      expect(jobs.length).toBeGreaterThan(0);
      expect(jobs.every((j) => ['PROMOTED', 'REJECTED'].includes(j.state))).toBe(true);
      expect(code).toBe(0);
      expect(stopMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + SHUTDOWN_MARGIN_MS + EXIT_SLACK_MS);
      api = null;
    },
    SOAK_SECONDS * 1000 + 420_000,
  );
});
