import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { freshBucket, testMinio, testMlflowUrl } from './services.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RelearnProcess {
  child: ChildProcess;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown, nothing flushed — a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
}

/** This run's memoised bootstrap fits, as environment (none in the unit tier, which starts no app). */
export function fitCacheEnv(): Record<string, string> {
  const dir = inject('fitCacheDir');
  return dir ? { BOOTSTRAP_FIT_CACHE_DIR: dir } : {};
}

/** Runs `server/src/<entry>.ts` (main or trainer) as its own Node process with the given environment. */
export function startRelearnProcess(entry: 'main' | 'trainer', env: Record<string, string>): RelearnProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `server/src/${entry}.ts`], {
    cwd: root,
    // As startTestApp: tests teach as the operator's own traffic (the trust gate's tests say otherwise).
    env: { ...process.env, LOG_LEVEL: 'info', LOG_PRETTY: 'false', TRUSTED_SOURCES: 'anonymous', ...fitCacheEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Resolves once the process has printed a line matching `pattern`. */
export async function waitForOutput(p: RelearnProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!pattern.test(p.output())) {
    if (p.child.exitCode !== null) throw new Error(`process exited (${p.child.exitCode}) before printing ${pattern}:\n${p.output().slice(-3000)}`);
    if (Date.now() - started > timeoutMs) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The URL an API process printed it listens on (its port is chosen by the OS: PORT=0). */
export function listeningUrl(p: RelearnProcess): string {
  const url = /GraphQL \+ GraphiQL\s+(http:\/\/[\d.:]+)\/graphql/.exec(p.output())?.[1];
  if (!url) throw new Error(`the process printed no GraphQL URL:\n${p.output().slice(-3000)}`);
  return url;
}

export interface ApiProcess {
  url: string;
  process: RelearnProcess;
}

/**
 * The environment of processes working as one deployment, as docker-compose runs them: this run's
 * MinIO (a fresh bucket) and MLflow, open auth, no rate limits, a failed retrain retried after a
 * second and metrics pushed every 100 ms. `env` (the database, the admin token) comes on top.
 */
export async function deploymentEnv(bucketPrefix: string, env: Record<string, string>): Promise<Record<string, string>> {
  const { endpoint, accessKey, secretKey } = testMinio();
  return {
    AUTH_MODE: 'open',
    RATE_LIMITS: 'off',
    S3_ENDPOINT: endpoint,
    S3_ACCESS_KEY: accessKey,
    S3_SECRET_KEY: secretKey,
    S3_BUCKET: await freshBucket(bucketPrefix),
    MLFLOW_TRACKING_URI: testMlflowUrl(),
    RETRAIN_RETRY_DELAY_SECONDS: '1',
    METRICS_PUSH_INTERVAL_MS: '100',
    ...env,
  };
}

/**
 * An API process with no trainer inside, on a free port, once every model is live. It joins
 * `started` before it is up, so the caller's cleanup stops it even when it never comes up.
 */
export async function startApiProcess(env: Record<string, string>, started: RelearnProcess[], timeoutMs = 120_000): Promise<ApiProcess> {
  const p = startRelearnProcess('main', { ...env, PORT: '0', TRAINER: 'off' });
  started.push(p);
  await waitForOutput(p, /all models live: ready to predict/, timeoutMs);
  return { url: listeningUrl(p), process: p };
}

/** A trainer process, once it waits for retrain jobs; it joins `started` as startApiProcess's does. */
export async function startTrainerProcess(env: Record<string, string>, started: RelearnProcess[], timeoutMs = 120_000): Promise<RelearnProcess> {
  const p = startRelearnProcess('trainer', { ...env, PORT: '0' });
  started.push(p);
  await waitForOutput(p, /trainer started: waiting for retrain jobs/, timeoutMs);
  return p;
}

/** A GraphQL request over HTTP to a process at `url`, with the admin token when one is given. */
export async function postGraphql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{ data?: any; errors?: any[] }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[] };
}
