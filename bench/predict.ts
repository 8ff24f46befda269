// Prediction benchmark (`npm run bench`; `--quick` for a short run, `--help` for options).
//
// Three servers, each in its own child process, measured by autocannon from this process:
//   bare    node:http answering the bytes of a real Relearn predict answer (baseline B)
//   yoga    a minimal graphql-yoga (createYoga + createSchema) with the same predict signature
//   relearn buildApp() on a private, durable PostgreSQL (fsync on); every prediction stored
// The load generator shares the machine's cores with the servers (and PostgreSQL), equally for all.
// See /work/shared/reference/performance.md for the protocol followed here.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon, { type Request as AcRequest } from 'autocannon';

const SCRIPT = fileURLToPath(import.meta.url);
const BENCH_DIR = dirname(SCRIPT);
const RESULTS_DIR = join(BENCH_DIR, 'results');

// ---------------------------------------------------------------------------------------------
// What is sent. One constant document per operation; inputs vary through variables.

/** `--no-model-version` (diagnostic): leave `modelVersion { version }` out of the selection. */
const SELECT_MODEL_VERSION = !process.argv.includes('--no-model-version');
const PREDICT = /* GraphQL */ `mutation Predict($input: PredictInput!) {
  predict(input: $input) { id model label probability scores { label probability } ${SELECT_MODEL_VERSION ? 'modelVersion { version } ' : ''}createdAt }
}`;
const PREDICT_BATCH = /* GraphQL */ `mutation PredictBatch($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;
const FEEDBACK = /* GraphQL */ `mutation Feedback($input: FeedbackInput!) {
  submitFeedback(input: $input) { id actual correct prediction { id label } }
}`;
const HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };

const CATEGORIES = ['grocery', 'travel', 'crypto', 'electronics', 'restaurant', 'fuel', 'gaming', 'pharmacy'];
/** Deterministic, valid fraud inputs. */
function fraudInput(i: number) {
  return {
    amount: Math.round((5 + ((i * 7919) % 250_000) / 100) * 100) / 100,
    hour: (i * 5) % 24,
    dayOfWeek: (i * 3) % 7,
    merchantCategory: CATEGORIES[i % CATEGORIES.length]!,
    previousAmount: Math.round((((i * 104_729) % 90_000) / 100) * 100) / 100,
    timeSinceLast: ((i * 37) % 2000) / 10,
  };
}
const PREDICT_BODIES = Array.from({ length: 48 }, (_, i) => JSON.stringify({ query: PREDICT, variables: { input: { fraud: fraudInput(i) } } }));

// ---------------------------------------------------------------------------------------------
// Child processes: one server each. The parent talks to them over the IPC channel.

type Role = 'bare' | 'yoga' | 'relearn';
type ToChild = { id: number; cmd: 'stop' | 'profile-start' | 'profile-stop' | 'loop-reset' | 'loop-read'; file?: string };
type FromChild = { type: 'ready'; port: number } | { type: 'done'; id: number; error?: string; data?: unknown };
/** Event-loop delay of a server process between loop-reset and loop-read (ms). */
export interface LoopDelay { p50: number; p99: number; max: number; gc: GcStats }
/** Garbage-collection pauses of a server process (ms). */
export interface GcStats { count: number; totalMs: number; maxMs: number; major: number; majorMaxMs: number }

async function child(role: Role): Promise<void> {
  process.on('disconnect', () => process.exit(1)); // the parent died: do not linger
  let stop: () => Promise<void>;
  let port: number;
  if (role === 'bare') {
    const body = Buffer.from(process.env.BENCH_BODY!, 'base64');
    const contentType = process.env.BENCH_CONTENT_TYPE!;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.on('data', () => {});
      req.on('end', () => res.writeHead(200, { 'content-type': contentType, 'content-length': body.length }).end(body));
    });
    server.keepAliveTimeout = 65_000;
    port = await listen(server);
    stop = () => new Promise((r) => server.close(() => r()));
  } else if (role === 'yoga') {
    const { createSchema, createYoga } = await import('graphql-yoga');
    const answer = JSON.parse(process.env.BENCH_ANSWER!) as unknown;
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: /* GraphQL */ `
          input FraudInput { amount: Float! hour: Int! dayOfWeek: Int! merchantCategory: String! previousAmount: Float! timeSinceLast: Float! }
          input SpamInput { text: String! }
          input PredictInput @oneOf { fraud: FraudInput spam: SpamInput }
          type ClassScore { label: String! probability: Float! }
          type ModelVersion { version: Int! }
          type Prediction { id: ID! model: String! label: String! probability: Float! scores: [ClassScore!]! modelVersion: ModelVersion! createdAt: String! }
          type Query { ok: Boolean }
          type Mutation { predict(input: PredictInput!): Prediction! }`,
        resolvers: { Mutation: { predict: () => answer } },
      }),
      graphqlEndpoint: '/graphql',
      landingPage: false,
      graphiql: false,
      logging: false,
    });
    const server = createServer(yoga);
    server.keepAliveTimeout = 65_000;
    port = await listen(server);
    stop = () => new Promise((r) => server.close(() => r()));
  } else {
    const { buildApp } = await import('../server/src/app.js');
    const { loadConfig } = await import('../server/src/config.js');
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: process.env.BENCH_DATA_DIR!,
      DATABASE_URL: process.env.BENCH_DATABASE_URL!,
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
    });
    const app = await buildApp(config);
    port = await app.start();
    await app.modelsReady;
    stop = () => app.stop();
  }

  const { Session } = await import('node:inspector/promises');
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const loop = monitorEventLoopDelay({ resolution: 2 });
  loop.enable();
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  let gc: GcStats = { count: 0, totalMs: 0, maxMs: 0, major: 0, majorMaxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.major++;
        gc.majorMaxMs = Math.max(gc.majorMaxMs, e.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  let session: InstanceType<typeof Session> | null = null;
  process.on('message', (msg: ToChild) => {
    void (async () => {
      try {
        if (msg.cmd === 'stop') {
          await stop();
          process.send!({ type: 'done', id: msg.id } satisfies FromChild, undefined, {}, () => process.exit(0));
          return;
        }
        if (msg.cmd === 'profile-start') {
          session = new Session();
          session.connect();
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 250 });
          await session.post('Profiler.start');
        } else if (msg.cmd === 'profile-stop' && session) {
          const { profile } = await session.post('Profiler.stop');
          session.disconnect();
          session = null;
          await writeFile(msg.file!, JSON.stringify(profile));
        }
        let data: LoopDelay | undefined;
        if (msg.cmd === 'loop-reset') {
          loop.reset();
          gc = { count: 0, totalMs: 0, maxMs: 0, major: 0, majorMaxMs: 0 };
        }
        if (msg.cmd === 'loop-read') data = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6, gc };
        process.send!({ type: 'done', id: msg.id, ...(data ? { data } : {}) } satisfies FromChild);
      } catch (error) {
        process.send!({ type: 'done', id: msg.id, error: String((error as Error)?.stack ?? error) } satisfies FromChild);
      }
    })();
  });
  process.send!({ type: 'ready', port } satisfies FromChild);
}

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

interface Server {
  role: Role;
  url: string;
  port: number;
  proc: ChildProcess;
  command(cmd: ToChild['cmd'], file?: string): Promise<unknown>;
}

let nextCommandId = 1;
function startChild(role: Role, env: Record<string, string>, timeoutMs = 600_000): Promise<Server> {
  const proc = fork(SCRIPT, [], {
    // `--import tsx`, not the tsx CLI's own loader flags: Relearn's training worker
    // (server/src/training/train-in-worker.ts) only finds tsx when it is given this way.
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, BENCH_ROLE: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve: (data: unknown) => void; reject: (e: Error) => void }>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} server did not start within ${timeoutMs} ms`)), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} server exited with ${code} before it was ready`));
      for (const w of waiting.values()) w.reject(new Error(`${role} server exited with ${code}`));
    });
    proc.on('message', (msg: FromChild) => {
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve({
          role,
          port: msg.port,
          url: `http://127.0.0.1:${msg.port}`,
          proc,
          command: (cmd, file) =>
            new Promise<unknown>((res, rej) => {
              const id = nextCommandId++;
              waiting.set(id, { resolve: res, reject: rej });
              proc.send({ id, cmd, ...(file ? { file } : {}) } satisfies ToChild);
            }),
        });
      } else if (msg.type === 'done') {
        const w = waiting.get(msg.id);
        waiting.delete(msg.id);
        if (msg.error) w?.reject(new Error(msg.error));
        else w?.resolve(msg.data);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Answer checking. Every response is checked (not sampled): status, GraphQL errors, and the id.

interface Tally {
  ok: number;
  non2xx: number;
  gqlErrors: number;
  malformed: number;
  netErrors: number;
  timeouts: number;
  firstError?: string;
}
const newTally = (): Tally => ({ ok: 0, non2xx: 0, gqlErrors: 0, malformed: 0, netErrors: 0, timeouts: 0 });
const failures = (t: Tally) => t.non2xx + t.gqlErrors + t.malformed + t.netErrors + t.timeouts;

const PREDICT_ID = /"predict":\{"id":"([^"]+)"/;
const FEEDBACK_ID = /"submitFeedback":\{"id":"([^"]+)"/;

function checker(tally: Tally, idPattern: RegExp, collect?: string[]) {
  return (status: number, body: string) => {
    if (status < 200 || status > 299) {
      tally.non2xx++;
      tally.firstError ??= `HTTP ${status}: ${body.slice(0, 300)}`;
    } else if (body.includes('"errors"')) {
      tally.gqlErrors++;
      tally.firstError ??= body.slice(0, 300);
    } else {
      const m = idPattern.exec(body);
      if (m) {
        tally.ok++;
        collect?.push(m[1]!);
      } else {
        tally.malformed++;
        tally.firstError ??= `unexpected body: ${body.slice(0, 300)}`;
      }
    }
  };
}

/** All failures of every run (warm-ups included): any one fails the benchmark. */
const allTallies: { what: string; tally: Tally }[] = [];

interface LoadRun {
  server: Role;
  seconds: number;
  perSecond: number;
  tally: Tally;
  p50: number;
  p99: number;
}

async function closedLoop(
  server: Server,
  what: string,
  opts: { seconds?: number; amount?: number; connections: number; overallRate?: number; requests: AcRequest[]; tally: Tally },
): Promise<LoadRun> {
  const started = performance.now();
  const result = await autocannon({
    url: `${server.url}/graphql`,
    connections: opts.connections,
    ...(opts.seconds ? { duration: opts.seconds } : {}),
    ...(opts.amount ? { amount: opts.amount } : {}),
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    timeout: 10,
    requests: opts.requests,
  });
  const seconds = (performance.now() - started) / 1000;
  const t = opts.tally;
  t.netErrors += result.errors - result.timeouts;
  t.timeouts += result.timeouts;
  allTallies.push({ what: `${what} ${server.role}`, tally: t });
  return { server: server.role, seconds, perSecond: t.ok / seconds, tally: t, p50: result.latency.p50, p99: result.latency.p99 };
}

function predictRequests(tally: Tally, collect?: string[]): AcRequest[] {
  const onResponse = checker(tally, PREDICT_ID, collect);
  return PREDICT_BODIES.map((body) => ({ method: 'POST', path: '/graphql', headers: HEADERS, body, onResponse }));
}

/**
 * A true open loop: request i is due at t0 + i/rate whatever happened before, and its latency is
 * counted from that due time (so queueing in the client or the server is not hidden). Node http
 * client with keep-alive; timer resolution adds up to ~1 ms to the "from due time" figures.
 */
async function openLoop(server: Server, rate: number, seconds: number, tally: Tally, collect?: string[]) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const fromDue: number[] = [];
  const fromSend: number[] = [];
  const check = checker(tally, PREDICT_ID, collect);
  let sent = 0;
  let done = 0;
  const t0 = performance.now() + 5;
  await new Promise<void>((resolve) => {
    const finished = () => {
      if (++done === total) resolve();
    };
    const fire = (i: number) => {
      const due = t0 + i * interval;
      const sentAt = performance.now();
      const body = PREDICT_BODIES[i % PREDICT_BODIES.length]!;
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/graphql', method: 'POST', agent, headers: { ...HEADERS, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const now = performance.now();
            fromDue.push(now - due);
            fromSend.push(now - sentAt);
            check(res.statusCode ?? 0, text);
            finished();
          });
        },
      );
      req.setTimeout(10_000, () => {
        tally.timeouts++;
        req.destroy();
      });
      req.on('error', (e) => {
        if (!req.destroyed || !/socket hang up|aborted/i.test(e.message)) tally.netErrors++;
        tally.firstError ??= e.message;
        finished();
      });
      req.end(body);
    };
    const timer = setInterval(() => {
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) fire(sent++);
      if (sent >= total) clearInterval(timer);
    }, 1);
  });
  agent.destroy();
  allTallies.push({ what: `open loop ${rate}/s ${server.role}`, tally });
  const pct = (a: number[], q: number) => {
    const s = [...a].sort((x, y) => x - y);
    return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]! : NaN;
  };
  return {
    server: server.role,
    rate,
    seconds,
    requests: total,
    tally,
    fromDue: { p50: pct(fromDue, 0.5), p99: pct(fromDue, 0.99), max: pct(fromDue, 1) },
    fromSend: { p50: pct(fromSend, 0.5), p99: pct(fromSend, 0.99), max: pct(fromSend, 1) },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function gql(url: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/json', text };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const log = (msg: string) => console.log(msg);
const progress = (msg: string) => process.stderr.write(`  .. ${msg}\n`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** Self and inclusive time per function and self time per package of a V8 .cpuprofile. */
function summarizeProfile(profile: {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const where = (url: string) => {
    if (!url) return '(native/gc/idle)';
    if (url.startsWith('node:')) return url;
    const nm = url.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const rest = url.slice(nm + 13).split('/');
      return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    }
    return relative(process.cwd(), fileURLToPath(url.startsWith('file:') ? url : `file://${url}`));
  };
  const fnKey = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${where(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const pkgSelf = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const id = profile.samples[i]!;
    const f = byId.get(id)!.callFrame;
    total += dt;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const k = fnKey(id);
    self.set(k, (self.get(k) ?? 0) + dt);
    const p = f.functionName === '(garbage collector)' ? '(gc)' : where(f.url);
    pkgSelf.set(p, (pkgSelf.get(p) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const key = fnKey(n);
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + dt);
    }
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { totalMs: total, idleMs: idle, busyMs: total - idle, packages: top(pkgSelf, 15), self: top(self, 20), inclusive: top(incl, 40) };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      rate: { type: 'string', default: '500' },
      'open-seconds': { type: 'string' },
      feedback: { type: 'string' },
      connections: { type: 'string', default: '32' },
      profile: { type: 'boolean', default: false },
      phases: { type: 'string', default: 'throughput,open,feedback' },
      'no-model-version': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    log(`npm run bench -- [--quick] [--duration S=10] [--rounds N=3] [--warmup S=5] [--rate R=500] [--open-seconds S=10]
                 [--feedback N=20000 per round] [--connections C=32] [--profile (CPU profile of the Relearn child)]
                 [--phases throughput,open,feedback] [--no-model-version (diagnostic: predict selection without modelVersion)]`);
    return 0;
  }
  const quick = args.quick;
  const duration = Number(args.duration ?? (quick ? 3 : 10));
  const rounds = Number(args.rounds ?? (quick ? 1 : 3));
  const warmup = Number(args.warmup ?? (quick ? 2 : 5));
  const rate = Number(args.rate);
  const openSeconds = Number(args['open-seconds'] ?? (quick ? 4 : 10));
  const feedbackPerRound = Number(args.feedback ?? (quick ? 3000 : 20_000));
  const connections = Number(args.connections);
  const phases = new Set(args.phases.split(',').map((p) => p.trim()));

  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    load: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  log(`Relearn prediction benchmark  ${new Date().toISOString()}${quick ? '  (--quick: short, indicative only)' : ''}`);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.os}, load ${machine.load.join(' ')}`);
  log(`load: autocannon in this process, ${connections} connections; each server in its own child process;`);
  log(`      the load generator competes with the server (and PostgreSQL) for the same ${machine.cores} cores, equally for all three.`);

  const { startPostgres, createDatabase, connectPg } = await import('../scripts/services/postgres.js');
  const pgDir = mkdtempSync(join(os.tmpdir(), 'relearn-bench-pg-'));
  const dataDir = mkdtempSync(join(os.tmpdir(), 'relearn-bench-data-'));
  // MikroORM's migrator writes a schema snapshot named after the database into migrations/: remove ours.
  const snapshot = join(BENCH_DIR, '..', 'migrations', '.snapshot-relearn_bench.json');
  const snapshotExisted = existsSync(snapshot);
  const servers: Server[] = [];
  let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
  let db: Awaited<ReturnType<typeof connectPg>> | undefined;
  try {
    progress('starting PostgreSQL (durable: fsync on)');
    pg = await startPostgres({ dataDir: pgDir, durable: true });
    const dbUrl = await createDatabase(pg.url, 'relearn_bench');
    db = await connectPg(dbUrl);
    const setting = async (name: string) => (await db!.query<{ v: string }>(`select current_setting($1) as v`, [name])).rows[0]!.v;
    const fsType = spawnSync('stat', ['-f', '-c', '%T', pgDir], { encoding: 'utf8' }).stdout.trim();
    const postgres = {
      version: (await db.query<{ v: string }>('select version() as v')).rows[0]!.v.split(' on ')[0]!,
      fsync: await setting('fsync'),
      synchronous_commit: await setting('synchronous_commit'),
      full_page_writes: await setting('full_page_writes'),
      wal_sync_method: await setting('wal_sync_method'),
      filesystem: fsType,
    };
    log(`database: ${postgres.version}, durable commits: fsync=${postgres.fsync}, synchronous_commit=${postgres.synchronous_commit}, ` +
      `full_page_writes=${postgres.full_page_writes}, wal_sync_method=${postgres.wal_sync_method}, data on ${fsType}`);

    progress('starting Relearn (buildApp; first start trains the models)');
    const relearn = await startChild('relearn', { BENCH_DATABASE_URL: dbUrl, BENCH_DATA_DIR: dataDir });
    servers.push(relearn);
    const ackedPredictions: string[] = [];

    // The bytes of a real answer, for the baseline and the minimal yoga.
    const sample = await gql(relearn.url, PREDICT, { input: { fraud: fraudInput(0) } });
    const sampleJson = JSON.parse(sample.text) as { data?: { predict?: Record<string, unknown> }; errors?: unknown };
    if (sample.status !== 200 || sampleJson.errors || !sampleJson.data?.predict) throw new Error(`Relearn predict failed: ${sample.status} ${sample.text}`);
    ackedPredictions.push(String(sampleJson.data.predict.id));

    progress('starting bare node:http and minimal yoga');
    const [bare, yoga] = await Promise.all([
      startChild('bare', { BENCH_BODY: Buffer.from(sample.text).toString('base64'), BENCH_CONTENT_TYPE: sample.contentType }),
      startChild('yoga', { BENCH_ANSWER: JSON.stringify(sampleJson.data.predict) }),
    ]);
    servers.push(bare, yoga);
    const same = await Promise.all([bare, yoga].map((s) => gql(s.url, PREDICT, { input: { fraud: fraudInput(1) } })));
    const sameBytes = same.every((r) => r.text === sample.text && r.contentType === sample.contentType);
    log(`answer: ${Buffer.byteLength(sample.text)} bytes (${sample.contentType}); bare and yoga send the same bytes as Relearn: ${sameBytes ? 'yes' : 'NO'}`);
    if (!sameBytes) log(`  bare: ${same[0]!.text}\n  yoga: ${same[1]!.text}\n  relearn: ${sample.text}`);
    log(`document: one constant predict mutation (selects id model label probability scores modelVersion{version} createdAt), ` +
      `${PREDICT_BODIES.length} different fraud inputs as variables`);

    const order: Server[] = [bare, yoga, relearn];
    const predictRunChecked = async (s: Server, what: string, seconds: number, overallRate?: number) => {
      const tally = newTally();
      const requests = predictRequests(tally, s.role === 'relearn' ? ackedPredictions : undefined);
      return closedLoop(s, what, { seconds, connections, requests, tally, ...(overallRate ? { overallRate } : {}) });
    };

    progress(`warm-up ${warmup} s each`);
    for (const s of order) await predictRunChecked(s, 'warm-up', warmup);

    // Diagnostics of Relearn runs: its event-loop delay, and PostgreSQL commits and WAL fsyncs.
    await db.query('alter system set track_wal_io_timing = on');
    await db.query('select pg_reload_conf()');
    const pgStats = async () => {
      const w = (await db!.query<{ s: string; t: number; b: string; f: string }>(
        'select wal_sync as s, wal_sync_time as t, wal_bytes as b, wal_fpi as f from pg_stat_wal')).rows[0]!;
      const x = (await db!.query<{ c: string }>('select xact_commit as c from pg_stat_database where datname = current_database()')).rows[0]!;
      const k = (await db!.query<{ n: string }>('select checkpoints_timed + checkpoints_req as n from pg_stat_bgwriter')).rows[0]!;
      return { syncs: Number(w.s), syncMs: Number(w.t), walBytes: Number(w.b), fpi: Number(w.f), commits: Number(x.c), checkpoints: Number(k.n) };
    };
    const diagnosed = async <T extends { seconds: number }>(run: () => Promise<T>) => {
      await new Promise((r) => setTimeout(r, 1100)); // PostgreSQL flushes its statistics at most once a second
      const before = await pgStats();
      await relearn.command('loop-reset');
      const result = await run();
      const loop = (await relearn.command('loop-read')) as LoopDelay;
      await new Promise((r) => setTimeout(r, 1100));
      const after = await pgStats();
      const syncs = after.syncs - before.syncs;
      const diag = {
        loop,
        commitsPerSecond: (after.commits - before.commits) / result.seconds,
        walFsyncsPerSecond: syncs / result.seconds,
        seconds: result.seconds,
        walFsyncAvgMs: syncs ? (after.syncMs - before.syncMs) / syncs : NaN,
        walMBPerSecond: (after.walBytes - before.walBytes) / 2 ** 20 / result.seconds,
        fullPageImagesPerSecond: (after.fpi - before.fpi) / result.seconds,
        checkpoints: after.checkpoints - before.checkpoints,
      };
      return { result, diag };
    };
    type Diag = Awaited<ReturnType<typeof diagnosed>>['diag'];
    const diagLine = (d: Diag) =>
      `loop delay p50/p99/max ${fmt(d.loop.p50, 1)}/${fmt(d.loop.p99, 1)}/${fmt(d.loop.max, 1)} ms, ` +
      `GC ${fmt((100 * d.loop.gc.totalMs) / 1000 / d.seconds, 1)}% (${d.loop.gc.major} major, max pause ${fmt(d.loop.gc.maxMs, 1)} ms), ` +
      `${fmt(d.commitsPerSecond)} commits/s, ${fmt(d.walFsyncsPerSecond)} WAL fsyncs/s of ${fmt(d.walFsyncAvgMs, 2)} ms, ` +
      `WAL ${fmt(d.walMBPerSecond, 1)} MB/s, ${fmt(d.fullPageImagesPerSecond)} full-page images/s, ${d.checkpoints} checkpoints`;

    const throughput: LoadRun[][] = [];
    const throughputDiag: Diag[] = [];
    for (let r = 0; r < rounds && phases.has('throughput'); r++) {
      const round: LoadRun[] = [];
      for (const s of order) {
        progress(`round ${r + 1}/${rounds}: ${s.role} closed loop ${duration} s`);
        if (s.role === 'relearn') {
          const { result, diag } = await diagnosed(() => predictRunChecked(s, `round ${r + 1}`, duration));
          round.push(result);
          throughputDiag.push(diag);
        } else round.push(await predictRunChecked(s, `round ${r + 1}`, duration));
      }
      throughput.push(round);
    }
    const rps = (role: Role) => throughput.map((round) => round.find((x) => x.server === role)!.perSecond);
    const ratioRY = throughput.map((round) => round[2]!.perSecond / round[1]!.perSecond);
    const ratioYB = throughput.map((round) => round[1]!.perSecond / round[0]!.perSecond);
    const ratioRB = throughput.map((round) => round[2]!.perSecond / round[0]!.perSecond);

    // Latency at a fixed rate: a true open loop for each server, and autocannon's overallRate for Relearn.
    const open: Awaited<ReturnType<typeof openLoop>>[] = [];
    let openDiag: Diag | undefined;
    let acRate: LoadRun | undefined;
    if (phases.has('open')) {
      for (const s of order) {
        progress(`open loop ${rate}/s ${openSeconds} s: ${s.role}`);
        if (s.role === 'relearn') {
          const { result, diag } = await diagnosed(() => openLoop(s, rate, openSeconds, newTally(), ackedPredictions));
          open.push(result);
          openDiag = diag;
        } else open.push(await openLoop(s, rate, openSeconds, newTally()));
      }
      progress(`autocannon overallRate ${rate}/s ${openSeconds} s: relearn`);
      acRate = await predictRunChecked(relearn, `overallRate ${rate}/s`, openSeconds, rate);
    }

    // Feedback: distinct predictions made through predictBatch, then one submitFeedback on each.
    const feedback: { created: number; createSeconds: number; run: LoadRun; overflow: number }[] = [];
    const ackedFeedback: string[] = [];
    const feedbackPredictionIds: string[] = [];
    const feedbackDiag: Diag[] = [];
    for (let r = 0; r < rounds && phases.has('feedback'); r++) {
      const n = feedbackPerRound + 256;
      progress(`feedback round ${r + 1}/${rounds}: predictBatch ${n} predictions`);
      const ids: string[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i += 2000) {
        const parts = [i, i + 1000].filter((start) => start < n).map((start) =>
          gql(relearn.url, PREDICT_BATCH, {
            inputs: Array.from({ length: Math.min(1000, n - start) }, (_, k) => ({ fraud: fraudInput(start + k + r * 7) })),
          }),
        );
        for (const res of await Promise.all(parts)) {
          const json = JSON.parse(res.text) as { data?: { predictBatch?: { id: string }[] }; errors?: unknown };
          if (res.status !== 200 || json.errors || !json.data?.predictBatch) throw new Error(`predictBatch failed: ${res.status} ${res.text.slice(0, 500)}`);
          for (const p of json.data.predictBatch) ids.push(p.id);
        }
      }
      const createSeconds = (performance.now() - t0) / 1000;
      ackedPredictions.push(...ids);
      feedbackPredictionIds.push(...ids);
      progress(`feedback round ${r + 1}/${rounds}: ${feedbackPerRound} submitFeedback, ${connections} connections`);
      let next = 0;
      let overflow = 0;
      const tally = newTally();
      const onResponse = checker(tally, FEEDBACK_ID, ackedFeedback);
      const request: AcRequest = {
        method: 'POST',
        path: '/graphql',
        headers: HEADERS,
        setupRequest: (req) => {
          const i = next++;
          if (i >= ids.length) overflow++;
          const k = i % ids.length;
          return { ...req, body: JSON.stringify({ query: FEEDBACK, variables: { input: { predictionId: ids[k], correct: k % 3 !== 0 } } }) };
        },
        onResponse,
      };
      const { result: run, diag } = await diagnosed(() =>
        closedLoop(relearn, `feedback round ${r + 1}`, { amount: feedbackPerRound, connections, requests: [request], tally }),
      );
      feedbackDiag.push(diag);
      feedback.push({ created: ids.length, createSeconds, run, overflow });
    }
    const feedbackRates = feedback.map((f) => f.run.perSecond);

    // Integrity: every acknowledged write must be in PostgreSQL.
    progress('counting rows');
    await new Promise((r) => setTimeout(r, 500)); // unacknowledged requests cut off at the end of a run may still commit
    const countIn = async (table: string, column: string, type: string, ids: string[]) => {
      let found = 0;
      for (let i = 0; i < ids.length; i += 20_000) {
        const { rows } = await db!.query<{ n: string }>(`select count(*) as n from ${table} where ${column} = any($1::${type}[])`, [ids.slice(i, i + 20_000)]);
        found += Number(rows[0]!.n);
      }
      return found;
    };
    const predictionRows = Number((await db.query<{ n: string }>('select count(*) as n from prediction')).rows[0]!.n);
    const feedbackRows = Number((await db.query<{ n: string }>('select count(*) as n from feedback')).rows[0]!.n);
    const uniquePredictions = [...new Set(ackedPredictions)];
    const uniqueFeedback = [...new Set(ackedFeedback)];
    const predictionsFound = await countIn('prediction', 'id', 'uuid', uniquePredictions);
    const feedbackFound = await countIn('feedback', 'id', 'bigint', uniqueFeedback);
    const integrity = {
      predictions: {
        acknowledged: ackedPredictions.length,
        distinctIds: uniquePredictions.length,
        foundById: predictionsFound,
        lost: uniquePredictions.length - predictionsFound + (ackedPredictions.length - uniquePredictions.length),
        rowsInTable: predictionRows,
        unacknowledgedExtra: predictionRows - predictionsFound,
      },
      feedback: {
        acknowledged: ackedFeedback.length,
        distinctIds: uniqueFeedback.length,
        foundById: feedbackFound,
        lost: uniqueFeedback.length - feedbackFound + (ackedFeedback.length - uniqueFeedback.length),
        rowsInTable: feedbackRows,
        unacknowledgedExtra: feedbackRows - feedbackFound,
      },
    };

    // Optional: CPU profile of the Relearn child under the same loads.
    let profiles: Record<string, ReturnType<typeof summarizeProfile>> | undefined;
    if (args.profile) {
      const { readFile } = await import('node:fs/promises');
      mkdirSync(RESULTS_DIR, { recursive: true });
      profiles = {};
      const predictFile = join(RESULTS_DIR, 'relearn-predict.cpuprofile');
      progress(`profiling Relearn predict (closed loop ${duration} s) -> ${relative(process.cwd(), predictFile)}`);
      await relearn.command('profile-start');
      await predictRunChecked(relearn, 'profiled predict', duration);
      await relearn.command('profile-stop', predictFile);
      profiles.predict = summarizeProfile(JSON.parse(await readFile(predictFile, 'utf8')));
    }

    // ------------------------------------------------------------------- report
    const failed = allTallies.filter((t) => failures(t.tally) > 0);
    const totalFailures = allTallies.reduce((a, t) => a + failures(t.tally), 0);
    const relearnP99 = open[2]?.fromDue.p99 ?? NaN;
    const targets = [
      { what: 'Relearn predict / minimal yoga (median)', value: median(ratioRY), target: '>= 0.70', met: median(ratioRY) >= 0.7 },
      { what: `Relearn p99 at ${rate}/s open loop (ms)`, value: relearnP99, target: '<= 10', met: relearnP99 <= 10 },
      { what: 'Relearn feedback/s (median)', value: median(feedbackRates), target: '>= 1500', met: median(feedbackRates) >= 1500 },
    ];

    log('');
    log(`Throughput, closed loop ${connections} connections, ${rounds} round(s) of ${duration} s after ${warmup} s warm-up, order bare,yoga,relearn each round`);
    log(table([
      ['', ...throughput.map((_, i) => `round ${i + 1}`), 'median', 'x bare', 'p50 ms', 'p99 ms'],
      ...order.map((s) => {
        const runs = throughput.map((round) => round.find((x) => x.server === s.role)!);
        return [s.role, ...runs.map((x) => fmt(x.perSecond)), fmt(median(rps(s.role))), fmt(median(rps(s.role)) / median(rps('bare')), 3),
          fmt(median(runs.map((x) => x.p50)), 0), fmt(median(runs.map((x) => x.p99)), 0)];
      }),
      ['relearn/yoga', ...ratioRY.map((x) => fmt(x, 3)), fmt(median(ratioRY), 3), '', '', ''],
      ['yoga/bare', ...ratioYB.map((x) => fmt(x, 3)), fmt(median(ratioYB), 3), '', '', ''],
      ['relearn/bare', ...ratioRB.map((x) => fmt(x, 3)), fmt(median(ratioRB), 3), '', '', ''],
    ]));
    log('(req/s counts only 2xx answers with data and no GraphQL errors; autocannon latencies are whole ms)');
    throughputDiag.forEach((d, i) => log(`relearn round ${i + 1}: ${diagLine(d)}`));
    log('');
    log(`Latency at a fixed ${rate} req/s, ${openSeconds} s, open loop (each request due at t0+i/${rate}; ms from due time, and from actual send)`);
    log(table([
      ['', 'p50', 'p99', 'max', 'p50 send', 'p99 send', 'failures'],
      ...open.map((o) => [o.server, fmt(o.fromDue.p50, 2), fmt(o.fromDue.p99, 2), fmt(o.fromDue.max, 1), fmt(o.fromSend.p50, 2), fmt(o.fromSend.p99, 2), String(failures(o.tally))]),
      ...(acRate ? [[`relearn, autocannon overallRate`, fmt(acRate.p50, 0), fmt(acRate.p99, 0), '', '', '', String(failures(acRate.tally))]] : []),
    ]));
    if (openDiag) log(`relearn at ${rate}/s: ${diagLine(openDiag)}`);
    log(`(autocannon's overallRate lets each of the ${connections} connections send its per-second quota back to back, then pause: bursty, not an even open loop)`);
    log('');
    log(`Feedback: submitFeedback on distinct predictions (made by predictBatch just before), ${connections} connections, durable commit`);
    log(table([
      ['', ...feedback.map((_, i) => `round ${i + 1}`), 'median'],
      ['feedback/s', ...feedbackRates.map((x) => fmt(x)), fmt(median(feedbackRates))],
      ['predictBatch predictions/s', ...feedback.map((f) => fmt(f.created / f.createSeconds)), fmt(median(feedback.map((f) => f.created / f.createSeconds)))],
      ['p50 / p99 ms', ...feedback.map((f) => `${fmt(f.run.p50)} / ${fmt(f.run.p99)}`), ''],
    ]));
    feedbackDiag.forEach((d, i) => log(`feedback round ${i + 1}: ${diagLine(d)}`));
    log('');
    log('Integrity (acknowledged = 2xx with an id and no errors; found = acknowledged ids present in PostgreSQL)');
    log(table([
      ['', 'acknowledged', 'found', 'lost', 'rows in table', 'unacked extra'],
      ...(['predictions', 'feedback'] as const).map((k) => {
        const x = integrity[k];
        return [k, fmt(x.acknowledged), fmt(x.foundById), String(x.lost), fmt(x.rowsInTable), fmt(x.unacknowledgedExtra)];
      }),
    ]));
    log(`failures in runs (non-2xx, GraphQL errors, malformed, network, timeouts; every response checked): ${totalFailures}`);
    for (const f of failed) log(`  ${f.what}: ${JSON.stringify({ ...f.tally, firstError: undefined })} first: ${f.tally.firstError}`);
    if (feedback.some((f) => f.overflow > 0)) log(`  feedback id overflow (ids reused): ${feedback.map((f) => f.overflow).join(', ')}`);

    if (profiles?.predict) {
      const p = profiles.predict;
      log('');
      log(`CPU profile of the Relearn child, predict closed loop: busy ${fmt(p.busyMs)} ms of ${fmt(p.totalMs)} ms`);
      log('  self time by package: ' + p.packages.slice(0, 12).map(([k, v]) => `${k} ${fmt((100 * v) / p.busyMs, 1)}%`).join(', '));
      log('  top self: ' + p.self.slice(0, 10).map(([k, v]) => `${k} ${fmt((100 * v) / p.busyMs, 1)}%`).join('; '));
      log('  (full self/inclusive lists in the JSON results and the .cpuprofile)');
    }

    log('');
    log(`machine load average at the end: ${os.loadavg().map((l) => fmt(l, 2)).join(' ')} (other work on this shared machine shows here)`);
    log('');
    log('Summary');
    log(table([
      ['', 'value', 'target', ''],
      ['bare node:http req/s (median)', fmt(median(rps('bare'))), '', ''],
      ['minimal yoga req/s (median)', fmt(median(rps('yoga'))), '', ''],
      ['Relearn predict req/s (median)', fmt(median(rps('relearn'))), '', ''],
      ['yoga / bare', fmt(median(ratioYB), 3), '(ref. ~0.12)', ''],
      ...targets.map((t) => [t.what, fmt(t.value, t.what.includes('ms') ? 2 : t.value < 10 ? 3 : 0), t.target, Number.isNaN(t.value) ? 'skipped' : t.met ? 'met' : 'MISSED']),
      ['Relearn feedback/s / bare req/s', fmt(median(feedbackRates) / median(rps('bare')), 3), '', ''],
      ['failures', String(totalFailures), '0', totalFailures === 0 ? 'ok' : 'FAIL'],
      ['lost predictions / feedback', `${integrity.predictions.lost} / ${integrity.feedback.lost}`, '0 / 0',
        integrity.predictions.lost + integrity.feedback.lost === 0 ? 'ok' : 'FAIL'],
    ]));

    const ok = totalFailures === 0 && integrity.predictions.lost === 0 && integrity.feedback.lost === 0;
    mkdirSync(RESULTS_DIR, { recursive: true });
    const out = join(RESULTS_DIR, 'predict-latest.json');
    writeFileSync(out, JSON.stringify({
      date: new Date().toISOString(),
      ok,
      machine: { ...machine, loadAtEnd: os.loadavg() },
      postgres,
      settings: { phases: [...phases], selectModelVersion: SELECT_MODEL_VERSION, quick, duration, rounds, warmup, rate, openSeconds, feedbackPerRound, connections, bodies: PREDICT_BODIES.length, document: PREDICT },
      answerBytes: Buffer.byteLength(sample.text),
      sameBytes,
      throughput: {
        perRound: throughput.map((round) => Object.fromEntries(round.map((x) => [x.server, { perSecond: x.perSecond, p50: x.p50, p99: x.p99, seconds: x.seconds, ...x.tally }]))),
        median: { bare: median(rps('bare')), yoga: median(rps('yoga')), relearn: median(rps('relearn')) },
        ratios: { relearnOverYoga: median(ratioRY), yogaOverBare: median(ratioYB), relearnOverBare: median(ratioRB), perRound: { relearnOverYoga: ratioRY, yogaOverBare: ratioYB } },
      },
      openLoop: open,
      autocannonOverallRate: acRate ? { rate, p50: acRate.p50, p99: acRate.p99, perSecond: acRate.perSecond, ...acRate.tally } : null,
      diagnostics: { throughput: throughputDiag, openLoop: openDiag ?? null, feedback: feedbackDiag },
      feedback: { perRound: feedback.map((f) => ({ perSecond: f.run.perSecond, p50: f.run.p50, p99: f.run.p99, seconds: f.run.seconds, created: f.created, createSeconds: f.createSeconds, overflow: f.overflow, ...f.run.tally })), median: median(feedbackRates) },
      integrity,
      failures: totalFailures,
      failedRuns: failed.map((f) => ({ what: f.what, ...f.tally })),
      targets,
      ...(profiles ? { profiles } : {}),
    }, null, 2));
    log(`\nresults: ${relative(process.cwd(), out)}${ok ? '' : '  (FAILED: errors or lost rows)'}`);
    return ok ? 0 : 1;
  } finally {
    progress('stopping servers and PostgreSQL');
    await Promise.all(servers.map((s) => s.command('stop').catch(() => s.proc.kill())));
    await db?.end().catch(() => undefined);
    await pg?.stop().catch((e: Error) => console.error(e.message));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
    if (!snapshotExisted) rmSync(snapshot, { force: true });
  }
}

const role = process.env.BENCH_ROLE as Role | undefined;
if (role) {
  child(role).catch((error: unknown) => {
    console.error(`[bench ${role}]`, error);
    process.exit(1);
  });
} else {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
