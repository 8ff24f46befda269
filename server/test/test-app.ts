import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { freshDatabaseUrl } from './database.js';
import { fitCacheEnv } from './processes.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface GraphQLResponse<T = any> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, any>; path?: string[] }[];
}

export interface TestApp {
  app: App;
  /** http://127.0.0.1:PORT */
  url: string;
  /** POSTs one GraphQL operation over real HTTP. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: { token?: string }): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client on the same server; closed by stop(). */
  wsClient(): Client;
  stop(): Promise<void>;
}

/**
 * A whole Relearn on a free port, against a fresh database on the test PostgreSQL server
 * (`database: 'postgres'`, the default) or the embedded PGlite (`database: 'embedded'`).
 */
export async function startTestApp(
  options: {
    database?: 'postgres' | 'embedded';
    databaseUrl?: string;
    /** Reuse a data directory (it is then left in place at stop). */
    dataDir?: string;
    /** Wait until every task has a live model (default true). */
    waitForModels?: boolean;
    env?: Record<string, string>;
  } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'relearn-test-')));
  const databaseUrl = options.databaseUrl ?? (options.database === 'embedded' ? undefined : await freshDatabaseUrl('relearn'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    LOG_PRETTY: 'false',
    METRICS_PUSH_INTERVAL_MS: '50',
    // Tests of other concerns run open and unlimited; access tests set AUTH_MODE=keys and limits themselves.
    AUTH_MODE: 'open',
    RATE_LIMITS: 'off',
    // Tests teach as the operator's own traffic; the trust gate's tests name who is trusted themselves.
    TRUSTED_SOURCES: 'anonymous',
    // Every fresh database bootstraps each task: the same fit, memoised for this run.
    ...fitCacheEnv(),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  });
  const app = await buildApp(config, createLogger(config));
  const port = await app.start();
  if (options.waitForModels ?? true) await app.modelsReady;
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    app,
    url,
    async gql(query, variables, opts) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(opts?.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphQLResponse;
    },
    wsClient() {
      const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects the next `n` results of a subscription. */
export function nextResults<T>(client: Client, query: string, variables: Record<string, unknown>, n: number, timeoutMs = 10_000) {
  const results: T[] = [];
  let unsubscribe = () => {};
  const done = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`subscription gave ${results.length} of ${n} results in ${timeoutMs} ms`));
    }, timeoutMs);
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (r) => {
          if (r.errors) {
            clearTimeout(timer);
            reject(new Error(JSON.stringify(r.errors)));
            return;
          }
          results.push(r.data as T);
          if (results.length >= n) {
            clearTimeout(timer);
            unsubscribe();
            resolve(results);
          }
        },
        error: (e) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(JSON.stringify(e)));
        },
        complete: () => {},
      },
    );
  });
  return { results, done, unsubscribe: () => unsubscribe() };
}

/**
 * Resolves with job `jobId` once it is finished (PROMOTED, REJECTED or FAILED), as the
 * `retrainStatus` subscription pushes it: the subscription sends the model's latest job first, so
 * a job that finished before the subscription started is seen too.
 */
export async function retrainFinished(
  sut: TestApp,
  model: string,
  jobId: string,
  timeoutMs = 120_000,
): Promise<{ id: string; state: string; version: number | null; message: string | null }> {
  const client = sut.wsClient();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`retrain ${jobId} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = client.subscribe<{ retrainStatus: { id: string; state: string; version: number | null; message: string | null } }>(
      { query: `subscription($model: String!) { retrainStatus(model: $model) { id state version message } }`, variables: { model } },
      {
        next: (r) => {
          const job = r.data?.retrainStatus;
          if (job?.id === jobId && ['PROMOTED', 'REJECTED', 'FAILED'].includes(job.state)) {
            clearTimeout(timer);
            unsubscribe();
            resolve(job);
          }
        },
        error: (e) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(JSON.stringify(e)));
        },
        complete: () => {},
      },
    );
  });
}

export const PREDICT_FRAUD = /* GraphQL */ `
  mutation Predict($input: PredictInput!) {
    predict(input: $input) { id model label probability scores { label probability } modelVersion { version } createdAt }
  }
`;

export const SUBMIT_FEEDBACK = /* GraphQL */ `
  mutation Feedback($input: FeedbackInput!) {
    submitFeedback(input: $input) { id actual correct prediction { id label } }
  }
`;

export const METRICS = /* GraphQL */ `
  query Metrics($model: String!, $window: MetricsWindow, $version: Int) {
    metrics(model: $model, window: $window, version: $version) {
      model accuracy precision recall f1 confusion { tp tn fp fn } predictionCount feedbackCount liveVersion { version }
    }
  }
`;

export const aFraudInput = (overrides: Record<string, unknown> = {}) => ({
  amount: 42.5,
  hour: 14,
  dayOfWeek: 3,
  merchantCategory: 'grocery',
  previousAmount: 40,
  timeSinceLast: 20,
  ...overrides,
});
