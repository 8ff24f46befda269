// Prediction benchmark (`npm run bench`; `--quick` for a short run, `--help` for options).
//
// Three servers, each in its own child process, measured by autocannon from this process:
//   bare    node:http answering the bytes of a real Relearn predict answer (baseline B)
//   yoga    a minimal graphql-yoga (createYoga + createSchema) with the same predict signature
//   relearn buildApp() on a private, durable PostgreSQL (fsync on); every prediction stored
// and Relearn variants on the same database (`--variants`): the lean GraphQL path off
// (GRAPHQL_FAST_PATH=off: every request through yoga) and the other PREDICTION_COMMIT.
// The load generator shares the machine's cores with the servers (and PostgreSQL), equally for all.
// See /work/shared/reference/performance.md for the protocol followed here.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { failures, idChecker, newTally, Tallies, type Tally } from './lib/checks.js';
import { runBenchmark } from './lib/children.js';
import { diagnosed, type RunDiagnostics } from './lib/diagnostics.js';
import { checkedOpenLoop, closedLoop as autocannonLoop, type AcRequest } from './lib/load.js';
import type { LoopDelay } from './lib/loop-delay.js';
import { machineInfo, machineLine, type MachineInfo } from './lib/machine.js';
import { startBenchPostgres, type BenchPostgres } from './lib/postgres.js';
import { summarizeProfile } from './lib/profile.js';
import { serveAsChild, startServerChild, type Role, type Server } from './lib/server-children.js';
import { fmt, log, median, pct, progress, RESULTS_DIR, table, writeResults } from './lib/report.js';
import { fraudInput, HEADERS, postGraphql, predictBodies, predictDocument, predictMany } from './lib/workload.js';
import { loadConfig } from '../server/src/config.js';

const SCRIPT = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// What is sent. One constant document per operation; inputs vary through variables.

/** `--no-model-version` (diagnostic): leave `modelVersion { version }` out of the selection. */
const SELECT_MODEL_VERSION = !process.argv.includes('--no-model-version');
const PREDICT = predictDocument({ selectModelVersion: SELECT_MODEL_VERSION });
const FEEDBACK = /* GraphQL */ `mutation Feedback($input: FeedbackInput!) {
  submitFeedback(input: $input) { id actual correct prediction { id label } }
}`;
const PREDICT_BODIES = predictBodies(PREDICT);

const startChild = (role: Role, env: Record<string, string>) => startServerChild(SCRIPT, role, env);

interface Settings {
  quick: boolean;
  duration: number;
  rounds: number;
  warmup: number;
  rate: number;
  openSeconds: number;
  feedbackPerRound: number;
  connections: number;
  profile: boolean;
  phases: Set<string>;
  /** Open-loop rates for Relearn and its variants beside `rate` (the 2,000/s). */
  highRate: number;
  variants: Variant['name'][];
}

/** A Relearn child with other settings, measured beside the default one in the same rounds. */
interface Variant {
  name: 'fast-path-off' | 'commit-sync' | 'commit-async';
  env: Record<string, string>;
}
const VARIANTS: Record<Variant['name'], Variant> = {
  'fast-path-off': { name: 'fast-path-off', env: { GRAPHQL_FAST_PATH: 'off' } },
  'commit-sync': { name: 'commit-sync', env: { PREDICTION_COMMIT: 'sync' } },
  'commit-async': { name: 'commit-async', env: { PREDICTION_COMMIT: 'async' } },
};

/** The command line, or null after --help. */
function settings(): Settings | null {
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
      'high-rate': { type: 'string', default: '2000' },
      variants: { type: 'string', default: 'fast-path-off,commit-async' },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    log(`npm run bench -- [--quick] [--duration S=10] [--rounds N=3] [--warmup S=5] [--rate R=500] [--open-seconds S=10]
                 [--feedback N=20000 per round] [--connections C=32] [--profile (CPU profile of the Relearn child)]
                 [--phases throughput,open,feedback] [--no-model-version (diagnostic: predict selection without modelVersion)]
                 [--high-rate R=2000 (second open-loop rate, Relearn only)] [--variants fast-path-off,commit-async (also commit-sync; none)]`);
    return null;
  }
  const quick = args.quick;
  return {
    quick,
    duration: Number(args.duration ?? (quick ? 3 : 10)),
    rounds: Number(args.rounds ?? (quick ? 1 : 3)),
    warmup: Number(args.warmup ?? (quick ? 2 : 5)),
    rate: Number(args.rate),
    openSeconds: Number(args['open-seconds'] ?? (quick ? 4 : 10)),
    feedbackPerRound: Number(args.feedback ?? (quick ? 3000 : 20_000)),
    connections: Number(args.connections),
    profile: args.profile,
    phases: new Set(args.phases.split(',').map((p) => p.trim())),
    highRate: Number(args['high-rate']),
    variants: args.variants
      .split(',')
      .map((v) => v.trim())
      .filter((v): v is Variant['name'] => v in VARIANTS),
  };
}

// ---------------------------------------------------------------------------------------------
// Answer checking. Every response is checked (not sampled): status, GraphQL errors, and the id.

const PREDICT_ID = /"predict":\{"id":"([^"]+)"/;
const FEEDBACK_ID = /"submitFeedback":\{"id":"([^"]+)"/;

/** All failures of every run (warm-ups included): any one fails the benchmark. */
const tallies = new Tallies();

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
  const { tally, ...load } = opts;
  const run = await autocannonLoop(`${server.url}/graphql`, load);
  tally.netErrors += run.netErrors;
  tally.timeouts += run.timeouts;
  tallies.add(`${what} ${server.role}`, tally);
  return { server: server.role, seconds: run.seconds, perSecond: tally.ok / run.seconds, tally, p50: run.p50, p99: run.p99 };
}

function predictRequests(tally: Tally, collect?: string[]): AcRequest[] {
  const onResponse = idChecker(tally, PREDICT_ID, collect);
  return PREDICT_BODIES.map((body) => ({ method: 'POST', path: '/graphql', headers: HEADERS, body, onResponse }));
}

/** A true open loop (lib/load.ts) at `rate`, every answer checked. */
async function openLoop(server: Server, rate: number, seconds: number, tally: Tally, collect?: string[]) {
  const { samples } = await checkedOpenLoop({
    port: server.port,
    rate,
    seconds,
    bodies: PREDICT_BODIES,
    tally,
    onAnswer: idChecker(tally, PREDICT_ID, collect),
  }).done;
  tallies.add(`open loop ${rate}/s ${server.role}`, tally);
  const fromDue = samples.map((x) => x.fromDue);
  const fromSend = samples.map((x) => x.fromSend);
  return {
    server: server.role,
    rate,
    seconds,
    requests: Math.round(rate * seconds),
    tally,
    fromDue: { p50: pct(fromDue, 0.5), p99: pct(fromDue, 0.99), max: pct(fromDue, 1) },
    fromSend: { p50: pct(fromSend, 0.5), p99: pct(fromSend, 0.99), max: pct(fromSend, 1) },
  };
}
type OpenRun = Awaited<ReturnType<typeof openLoop>>;

const gql = (url: string, query: string, variables: Record<string, unknown>) => postGraphql(url, query, variables);

type Diag = RunDiagnostics<LoopDelay>;
const diagLine = (d: Diag) =>
  `loop delay p50/p99/max ${fmt(d.loop.p50, 1)}/${fmt(d.loop.p99, 1)}/${fmt(d.loop.max, 1)} ms, ` +
  `GC ${fmt((100 * d.loop.gc.totalMs) / 1000 / d.seconds, 1)}% (${d.loop.gc.count} pauses, ${d.loop.gc.major} major, max ${fmt(d.loop.gc.maxMs, 1)} ms), ` +
  `CPU ${fmt((100 * d.loop.cpuMs) / 1000 / d.seconds)}% of a core, ` +
  `${fmt(d.commitsPerSecond)} commits/s, ${fmt(d.walFsyncsPerSecond)} WAL fsyncs/s of ${fmt(d.walFsyncAvgMs, 2)} ms, ` +
  `WAL ${fmt(d.walMBPerSecond, 1)} MB/s, ${fmt(d.fullPageImagesPerSecond)} full-page images/s, ${d.checkpoints} checkpoints`;

// ---------------------------------------------------------------------------------------------
// The servers, and the phases measured against them.

interface Bench {
  settings: Settings;
  machine: MachineInfo;
  pg: BenchPostgres;
  postgres: Record<string, string>;
  bare: Server;
  yoga: Server;
  relearn: Server;
  /** bare, yoga, relearn: the order of every round. */
  order: Server[];
  /** Relearn with other settings, after `order` in every round. */
  variants: { variant: Variant; server: Server }[];
  sample: { status: number; contentType: string; text: string };
  sameBytes: boolean;
  /** Ids of every prediction Relearn acknowledged: each must be in PostgreSQL. */
  ackedPredictions: string[];
}

/** PostgreSQL, then Relearn on it, then bare node:http and minimal yoga answering Relearn's bytes. */
async function startServers(s: Settings, dataDir: string, started: { pg?: BenchPostgres; servers: Server[] }, machine: MachineInfo): Promise<Bench> {
  progress('starting PostgreSQL (durable: fsync on)');
  const pg = (started.pg = await startBenchPostgres('relearn_bench'));
  const postgres = await pg.describe(['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method']);
  log(
    `database: ${postgres.version}, durable commits: fsync=${postgres.fsync}, synchronous_commit=${postgres.synchronous_commit}, ` +
      `full_page_writes=${postgres.full_page_writes}, wal_sync_method=${postgres.wal_sync_method}, data on ${postgres.filesystem}`,
  );

  progress('starting Relearn (buildApp; first start trains the models)');
  const relearn = await startChild('relearn', { BENCH_DATABASE_URL: pg.url, BENCH_DATA_DIR: dataDir });
  started.servers.push(relearn);

  // The bytes of a real answer, for the baseline and the minimal yoga.
  const sample = await gql(relearn.url, PREDICT, { input: { fraud: fraudInput(0) } });
  const sampleJson = JSON.parse(sample.text) as { data?: { predict?: Record<string, unknown> }; errors?: unknown };
  if (sample.status !== 200 || sampleJson.errors || !sampleJson.data?.predict) throw new Error(`Relearn predict failed: ${sample.status} ${sample.text}`);

  progress('starting bare node:http and minimal yoga');
  const [bare, yoga] = await Promise.all([
    startChild('bare', { BENCH_BODY: Buffer.from(sample.text).toString('base64'), BENCH_CONTENT_TYPE: sample.contentType }),
    startChild('yoga', { BENCH_ANSWER: JSON.stringify(sampleJson.data.predict) }),
  ]);
  started.servers.push(bare, yoga);
  const same = await Promise.all([bare, yoga].map((x) => gql(x.url, PREDICT, { input: { fraud: fraudInput(1) } })));
  const sameBytes = same.every((r) => r.text === sample.text && r.contentType === sample.contentType);
  log(`answer: ${Buffer.byteLength(sample.text)} bytes (${sample.contentType}); bare and yoga send the same bytes as Relearn: ${sameBytes ? 'yes' : 'NO'}`);
  if (!sameBytes) log(`  bare: ${same[0]!.text}\n  yoga: ${same[1]!.text}\n  relearn: ${sample.text}`);
  log(
    `document: one constant predict mutation (selects id model label probability scores modelVersion{version} createdAt), ` +
      `${PREDICT_BODIES.length} different fraud inputs as variables`,
  );
  // The variants: the same database (models trained once, loaded by each), one after the other.
  const variants: Bench['variants'] = [];
  for (const name of s.variants) {
    progress(`starting Relearn ${name}`);
    const server = await startChild('relearn', { BENCH_DATABASE_URL: pg.url, BENCH_DATA_DIR: dataDir, ...VARIANTS[name].env });
    started.servers.push(server);
    variants.push({ variant: VARIANTS[name], server });
  }
  await pg.timeWalSyncs();
  return {
    variants,
    settings: s,
    machine,
    pg,
    postgres,
    bare,
    yoga,
    relearn,
    order: [bare, yoga, relearn],
    sample,
    sameBytes,
    ackedPredictions: [String(sampleJson.data.predict.id)],
  };
}

/** A closed loop of predictions on `server` for `seconds` (at `overallRate` when given). */
function predictRun(bench: Bench, server: Server, what: string, seconds: number, overallRate?: number) {
  const tally = newTally();
  const requests = predictRequests(tally, server.role === 'relearn' ? bench.ackedPredictions : undefined);
  return closedLoop(server, what, { seconds, connections: bench.settings.connections, requests, tally, ...(overallRate ? { overallRate } : {}) });
}

/** Relearn's event-loop delay (its child's probe) and PostgreSQL around `run`. */
const withDiagnostics = <T extends { seconds: number }>(bench: Bench, run: () => Promise<T>, server = bench.relearn) =>
  diagnosed(bench.pg, { reset: () => server.command('loop-reset'), read: async () => (await server.command('loop-read')) as LoopDelay }, run);

/** Throughput: rounds of a closed loop on each server in turn. */
async function throughputRounds(bench: Bench) {
  const { rounds, duration } = bench.settings;
  const throughput: LoadRun[][] = [];
  const diagnostics: Diag[] = [];
  /** Per variant, per round: its run and diagnostics. */
  const variants: Record<string, { run: LoadRun; diag: Diag }[]> = Object.fromEntries(bench.variants.map((v) => [v.variant.name, []]));
  for (let r = 0; r < rounds && bench.settings.phases.has('throughput'); r++) {
    const round: LoadRun[] = [];
    for (const server of bench.order) {
      progress(`round ${r + 1}/${rounds}: ${server.role} closed loop ${duration} s`);
      if (server.role === 'relearn') {
        const { result, diag } = await withDiagnostics(bench, () => predictRun(bench, server, `round ${r + 1}`, duration));
        round.push(result);
        diagnostics.push(diag);
      } else round.push(await predictRun(bench, server, `round ${r + 1}`, duration));
    }
    throughput.push(round);
    for (const { variant, server } of bench.variants) {
      progress(`round ${r + 1}/${rounds}: relearn ${variant.name} closed loop ${duration} s`);
      const { result, diag } = await withDiagnostics(bench, () => predictRun(bench, server, `round ${r + 1} ${variant.name}`, duration), server);
      variants[variant.name]!.push({ run: result, diag });
    }
  }
  return { throughput, diagnostics, variants };
}

/** Latency at a fixed rate: a true open loop for each server, and autocannon's overallRate for Relearn. */
async function openLoops(bench: Bench) {
  const { rate, openSeconds } = bench.settings;
  const open: OpenRun[] = [];
  let diagnostics: Diag | undefined;
  let acRate: LoadRun | undefined;
  /** Relearn (default settings, then each variant) at `rate` and `highRate`, with diagnostics. */
  const relearnOpen: { name: string; rate: number; run: OpenRun; diag: Diag }[] = [];
  if (bench.settings.phases.has('open')) {
    for (const server of bench.order) {
      progress(`open loop ${rate}/s ${openSeconds} s: ${server.role}`);
      if (server.role === 'relearn') {
        const { result, diag } = await withDiagnostics(bench, () => openLoop(server, rate, openSeconds, newTally(), bench.ackedPredictions));
        open.push(result);
        diagnostics = diag;
      } else open.push(await openLoop(server, rate, openSeconds, newTally()));
    }
    progress(`autocannon overallRate ${rate}/s ${openSeconds} s: relearn`);
    acRate = await predictRun(bench, bench.relearn, `overallRate ${rate}/s`, openSeconds, rate);
    const relearns = [{ name: 'default', server: bench.relearn }, ...bench.variants.map((v) => ({ name: v.variant.name, server: v.server }))];
    for (const at of [rate, bench.settings.highRate]) {
      for (const { name, server } of relearns) {
        if (at === rate && name === 'default') {
          relearnOpen.push({ name, rate, run: open[open.length - 1]!, diag: diagnostics! });
          continue;
        }
        progress(`open loop ${at}/s ${openSeconds} s: relearn ${name}`);
        const { result, diag } = await withDiagnostics(bench, () => openLoop(server, at, openSeconds, newTally(), bench.ackedPredictions), server);
        relearnOpen.push({ name, rate: at, run: result, diag });
      }
    }
  }
  return { open, diagnostics, acRate, relearnOpen };
}

/** Feedback: distinct predictions made through predictBatch, then one submitFeedback on each. */
async function feedbackRounds(bench: Bench, ackedFeedback: string[]) {
  const { rounds, feedbackPerRound, connections } = bench.settings;
  const feedback: { created: number; createSeconds: number; run: LoadRun; overflow: number }[] = [];
  const diagnostics: Diag[] = [];
  for (let r = 0; r < rounds && bench.settings.phases.has('feedback'); r++) {
    const n = feedbackPerRound + 256;
    progress(`feedback round ${r + 1}/${rounds}: predictBatch ${n} predictions`);
    const t0 = performance.now();
    const inputs = Array.from({ length: n }, (_, i) => ({ fraud: fraudInput(i + r * 7) }));
    const predicted = await predictMany(bench.relearn.url, tallies.start(`feedback round ${r + 1} predictBatch`), inputs, { chunk: 1000, parallel: 2 });
    const ids = predicted.filter((id): id is string => id !== null);
    const createSeconds = (performance.now() - t0) / 1000;
    bench.ackedPredictions.push(...ids);
    progress(`feedback round ${r + 1}/${rounds}: ${feedbackPerRound} submitFeedback, ${connections} connections`);
    let next = 0;
    let overflow = 0;
    const tally = newTally();
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
      onResponse: idChecker(tally, FEEDBACK_ID, ackedFeedback),
    };
    const { result: run, diag } = await withDiagnostics(bench, () =>
      closedLoop(bench.relearn, `feedback round ${r + 1}`, { amount: feedbackPerRound, connections, requests: [request], tally }),
    );
    diagnostics.push(diag);
    feedback.push({ created: ids.length, createSeconds, run, overflow });
  }
  // Feedback latency at a fixed rate (issue 15: p99 <= 20 ms at 500/s): one distinct prediction per request.
  let open: { rate: number; p50: number; p99: number; tally: Tally } | undefined;
  if (bench.settings.phases.has('feedback')) {
    const { rate, openSeconds } = bench.settings;
    const n = Math.round(rate * openSeconds) + 64;
    progress(`feedback open loop ${rate}/s ${openSeconds} s: predictBatch ${n} predictions first`);
    const inputs = Array.from({ length: n }, (_, i) => ({ fraud: fraudInput(i + 1_000_003) }));
    const ids = (await predictMany(bench.relearn.url, tallies.start('feedback open loop predictBatch'), inputs, { chunk: 1000, parallel: 2 })).filter(
      (id): id is string => id !== null,
    );
    bench.ackedPredictions.push(...ids);
    const bodies = ids.map((id, k) => JSON.stringify({ query: FEEDBACK, variables: { input: { predictionId: id, correct: k % 3 !== 0 } } }));
    const tally = newTally();
    const { samples } = await checkedOpenLoop({
      port: bench.relearn.port,
      rate,
      seconds: openSeconds,
      bodies,
      tally,
      onAnswer: idChecker(tally, FEEDBACK_ID, ackedFeedback),
    }).done;
    tallies.add(`feedback open loop ${rate}/s`, tally);
    const fromDue = samples.map((x) => x.fromDue);
    open = { rate, p50: pct(fromDue, 0.5), p99: pct(fromDue, 0.99), tally };
  }
  return { feedback, diagnostics, open };
}

/** Integrity: every acknowledged write must be in PostgreSQL. */
async function integrityOf(bench: Bench, ackedFeedback: string[]) {
  const { db } = bench.pg;
  const { ackedPredictions } = bench;
  progress('counting rows');
  await sleep(500); // unacknowledged requests cut off at the end of a run may still commit
  const countIn = async (table: string, column: string, type: string, ids: string[]) => {
    let found = 0;
    for (let i = 0; i < ids.length; i += 20_000) {
      const { rows } = await db.query<{ n: string }>(`select count(*) as n from ${table} where ${column} = any($1::${type}[])`, [ids.slice(i, i + 20_000)]);
      found += Number(rows[0]!.n);
    }
    return found;
  };
  const of = async (table: string, column: string, type: string, acked: string[]) => {
    const rowsInTable = Number((await db.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n);
    const unique = [...new Set(acked)];
    const foundById = await countIn(table, column, type, unique);
    return {
      acknowledged: acked.length,
      distinctIds: unique.length,
      foundById,
      lost: unique.length - foundById + (acked.length - unique.length),
      rowsInTable,
      unacknowledgedExtra: rowsInTable - foundById,
    };
  };
  return { predictions: await of('prediction', 'id', 'uuid', ackedPredictions), feedback: await of('feedback', 'id', 'bigint', ackedFeedback) };
}

/** Optional: a CPU profile of the Relearn child under the predict load. */
async function profileOf(bench: Bench) {
  if (!bench.settings.profile) return undefined;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const predictFile = join(RESULTS_DIR, 'relearn-predict.cpuprofile');
  progress(`profiling Relearn predict (closed loop ${bench.settings.duration} s) -> ${relative(process.cwd(), predictFile)}`);
  await bench.relearn.command('profile-start');
  await predictRun(bench, bench.relearn, 'profiled predict', bench.settings.duration);
  await bench.relearn.command('profile-stop', predictFile);
  return { predict: summarizeProfile(JSON.parse(await readFile(predictFile, 'utf8'))) };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const s = settings();
  if (!s) return 0;
  const machine = machineInfo();
  log(`Relearn prediction benchmark  ${new Date().toISOString()}${s.quick ? '  (--quick: short, indicative only)' : ''}`);
  log(machineLine(machine));
  log(`load: autocannon in this process, ${s.connections} connections; each server in its own child process;`);
  log(`      the load generator competes with the server (and PostgreSQL) for the same ${machine.cores} cores, equally for all three.`);
  const dataDir = mkdtempSync(join(os.tmpdir(), 'relearn-bench-data-'));
  const started: { pg?: BenchPostgres; servers: Server[] } = { servers: [] };
  try {
    const bench = await startServers(s, dataDir, started, machine);
    progress(`warm-up ${s.warmup} s each`);
    for (const server of [...bench.order, ...bench.variants.map((v) => v.server)]) await predictRun(bench, server, 'warm-up', s.warmup);
    const throughput = await throughputRounds(bench);
    const open = await openLoops(bench);
    // The variants are done: stopped, so their catch-ups and pools do not load PostgreSQL during the feedback rounds.
    await Promise.all(bench.variants.map((v) => v.server.command('stop').catch(() => v.server.proc.kill())));
    started.servers = started.servers.filter((x) => !bench.variants.some((v) => v.server === x));
    const ackedFeedback: string[] = [];
    const feedback = await feedbackRounds(bench, ackedFeedback);
    const integrity = await integrityOf(bench, ackedFeedback);
    const profiles = await profileOf(bench);
    return report(bench, { throughput, open, feedback, integrity, profiles });
  } finally {
    progress('stopping servers and PostgreSQL');
    await Promise.all(started.servers.map((x) => x.command('stop').catch(() => x.proc.kill())));
    await started.pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The report: tables on stdout, everything in bench/results/predict-latest.json. Returns the exit code.

function report(
  bench: Bench,
  m: {
    throughput: Awaited<ReturnType<typeof throughputRounds>>;
    open: Awaited<ReturnType<typeof openLoops>>;
    feedback: Awaited<ReturnType<typeof feedbackRounds>>;
    integrity: Awaited<ReturnType<typeof integrityOf>>;
    profiles: Awaited<ReturnType<typeof profileOf>>;
  },
): number {
  const { settings: s, machine, postgres, order, sample, sameBytes } = bench;
  const { quick, duration, rounds, warmup, rate, openSeconds, feedbackPerRound, connections, phases } = s;
  const { throughput, diagnostics: throughputDiag, variants } = m.throughput;
  const { open, diagnostics: openDiag, acRate, relearnOpen } = m.open;
  const { feedback, diagnostics: feedbackDiag, open: feedbackOpen } = m.feedback;
  const { integrity, profiles } = m;
  const rps = (role: Role) => throughput.map((round) => round.find((x) => x.server === role)!.perSecond);
  const ratioRY = throughput.map((round) => round[2]!.perSecond / round[1]!.perSecond);
  const ratioYB = throughput.map((round) => round[1]!.perSecond / round[0]!.perSecond);
  const ratioRB = throughput.map((round) => round[2]!.perSecond / round[0]!.perSecond);
  const feedbackRates = feedback.map((f) => f.run.perSecond);
  const failed = tallies.failed;
  const totalFailures = tallies.totalFailures;
  const relearnP99 = open[2]?.fromDue.p99 ?? NaN;
  const highP99 = relearnOpen.find((o) => o.name === 'default' && o.rate === s.highRate)?.run.fromDue.p99 ?? NaN;
  // Issue 15's targets (PostgreSQL, every prediction stored).
  const targets = [
    { what: 'Relearn predict (stored) / bare (median)', value: median(ratioRB), target: '>= 0.30', met: median(ratioRB) >= 0.3 },
    { what: `Relearn p99 at ${rate}/s open loop (ms)`, value: relearnP99, target: '<= 5', met: relearnP99 <= 5 },
    { what: `Relearn p99 at ${s.highRate}/s open loop (ms)`, value: highP99, target: '<= 10', met: highP99 <= 10 },
    { what: 'Relearn feedback/s (median)', value: median(feedbackRates), target: '>= 5000', met: median(feedbackRates) >= 5000 },
    {
      what: `Relearn feedback p99 at ${rate}/s open loop (ms)`,
      value: m.feedback.open?.p99 ?? NaN,
      target: '<= 20',
      met: (m.feedback.open?.p99 ?? NaN) <= 20,
    },
  ];
  // The settings of each Relearn row: the default ones, then each variant's on top of them.
  const defaults = loadConfig({ DATA_DIR: os.tmpdir() });
  const settingsOf = (env: Record<string, string>) => {
    const c = loadConfig({ DATA_DIR: os.tmpdir(), ...env });
    return [c.graphqlFastPath ? 'on' : 'off', c.predictionCommit];
  };
  const relearnRows = [
    { name: 'default', env: {}, runs: throughput.map((round) => ({ run: round[2]!, diag: throughputDiag[throughput.indexOf(round)]! })) },
    ...Object.entries(variants).map(([name, runs]) => ({ name, env: VARIANTS[name as Variant['name']].env, runs })),
  ].map((row) => {
    const ratios = row.runs.map((x, i) => x.run.perSecond / throughput[i]![0]!.perSecond);
    const at = (r: number) => relearnOpen.find((o) => o.name === row.name && o.rate === r)?.run;
    const gcShare = median(row.runs.map((x) => (100 * x.diag.loop.gc.totalMs) / 1000 / x.diag.seconds));
    return {
      ...row,
      settings: settingsOf(row.env),
      ratios,
      perSecond: median(row.runs.map((x) => x.run.perSecond)),
      low: at(rate),
      high: at(s.highRate),
      gcShare,
    };
  });

  log('');
  log(`Throughput, closed loop ${connections} connections, ${rounds} round(s) of ${duration} s after ${warmup} s warm-up, order bare,yoga,relearn each round`);
  log(
    table([
      ['', ...throughput.map((_, i) => `round ${i + 1}`), 'median', 'x bare', 'p50 ms', 'p99 ms'],
      ...order.map((s) => {
        const runs = throughput.map((round) => round.find((x) => x.server === s.role)!);
        return [
          s.role,
          ...runs.map((x) => fmt(x.perSecond)),
          fmt(median(rps(s.role))),
          fmt(median(rps(s.role)) / median(rps('bare')), 3),
          fmt(median(runs.map((x) => x.p50)), 0),
          fmt(median(runs.map((x) => x.p99)), 0),
        ];
      }),
      ['relearn/yoga', ...ratioRY.map((x) => fmt(x, 3)), fmt(median(ratioRY), 3), '', '', ''],
      ['yoga/bare', ...ratioYB.map((x) => fmt(x, 3)), fmt(median(ratioYB), 3), '', '', ''],
      ['relearn/bare', ...ratioRB.map((x) => fmt(x, 3)), fmt(median(ratioRB), 3), '', '', ''],
    ]),
  );
  log('(req/s counts only 2xx answers with data and no GraphQL errors; autocannon latencies are whole ms)');
  throughputDiag.forEach((d, i) => log(`relearn round ${i + 1}: ${diagLine(d)}`));
  log('');
  log(
    `Relearn settings side by side (same database, same rounds; x bare = median of each round's ratio to that round's bare; ` +
      `defaults GRAPHQL_FAST_PATH=${defaults.graphqlFastPath ? 'on' : 'off'}, PREDICTION_COMMIT=${defaults.predictionCommit})`,
  );
  const openCell = (o: OpenRun | undefined) => (o ? `${fmt(o.fromDue.p50, 2)} / ${fmt(o.fromDue.p99, 2)}` : 'n/a');
  log(
    table([
      ['', 'fast path', 'commit', 'req/s', 'x bare', 'p99 ms', `p50/p99 ms at ${rate}/s`, `p50/p99 ms at ${s.highRate}/s`, 'CPU µs/req', 'GC %', 'commits/s'],
      ...relearnRows.map((r) => [
        `relearn ${r.name}`,
        r.settings[0]!,
        r.settings[1]!,
        fmt(r.perSecond),
        fmt(median(r.ratios), 3),
        fmt(median(r.runs.map((x) => x.run.p99)), 0),
        openCell(r.low),
        openCell(r.high),
        fmt(median(r.runs.map((x) => (1000 * x.diag.loop.cpuMs) / Math.max(1, x.run.tally.ok))), 0),
        fmt(r.gcShare, 1),
        fmt(median(r.runs.map((x) => x.diag.commitsPerSecond))),
      ]),
    ]),
  );
  for (const r of relearnRows.slice(1)) r.runs.forEach((x, i) => log(`relearn ${r.name} round ${i + 1}: ${diagLine(x.diag)}`));
  log('');
  log(`Latency at a fixed ${rate} req/s, ${openSeconds} s, open loop (each request due at t0+i/${rate}; ms from due time, and from actual send)`);
  log(
    table([
      ['', 'p50', 'p99', 'max', 'p50 send', 'p99 send', 'failures'],
      ...open.map((o) => [
        o.server,
        fmt(o.fromDue.p50, 2),
        fmt(o.fromDue.p99, 2),
        fmt(o.fromDue.max, 1),
        fmt(o.fromSend.p50, 2),
        fmt(o.fromSend.p99, 2),
        String(failures(o.tally)),
      ]),
      ...(acRate ? [[`relearn, autocannon overallRate`, fmt(acRate.p50, 0), fmt(acRate.p99, 0), '', '', '', String(failures(acRate.tally))]] : []),
    ]),
  );
  if (openDiag) log(`relearn at ${rate}/s: ${diagLine(openDiag)}`);
  log(
    `(autocannon's overallRate lets each of the ${connections} connections send its per-second quota back to back, then pause: bursty, not an even open loop)`,
  );
  log('');
  log(`Feedback: submitFeedback on distinct predictions (made by predictBatch just before), ${connections} connections, durable commit`);
  log(
    table([
      ['', ...feedback.map((_, i) => `round ${i + 1}`), 'median'],
      ['feedback/s', ...feedbackRates.map((x) => fmt(x)), fmt(median(feedbackRates))],
      ['predictBatch predictions/s', ...feedback.map((f) => fmt(f.created / f.createSeconds)), fmt(median(feedback.map((f) => f.created / f.createSeconds)))],
      ['p50 / p99 ms', ...feedback.map((f) => `${fmt(f.run.p50)} / ${fmt(f.run.p99)}`), ''],
    ]),
  );
  feedbackDiag.forEach((d, i) => log(`feedback round ${i + 1}: ${diagLine(d)}`));
  if (feedbackOpen) {
    log(
      `feedback at a fixed ${feedbackOpen.rate}/s, open loop: p50 ${fmt(feedbackOpen.p50, 2)} ms, p99 ${fmt(feedbackOpen.p99, 2)} ms from due time, ` +
        `${failures(feedbackOpen.tally)} failures`,
    );
  }
  log('');
  log('Integrity (acknowledged = 2xx with an id and no errors; found = acknowledged ids present in PostgreSQL)');
  log(
    table([
      ['', 'acknowledged', 'found', 'lost', 'rows in table', 'unacked extra'],
      ...(['predictions', 'feedback'] as const).map((k) => {
        const x = integrity[k];
        return [k, fmt(x.acknowledged), fmt(x.foundById), String(x.lost), fmt(x.rowsInTable), fmt(x.unacknowledgedExtra)];
      }),
    ]),
  );
  log(`failures in runs (non-2xx, GraphQL errors, malformed, network, timeouts; every response checked): ${totalFailures}`);
  for (const f of failed) log(`  ${f.what}: ${JSON.stringify({ ...f.tally, firstError: undefined })} first: ${f.tally.firstError}`);
  if (feedback.some((f) => f.overflow > 0)) log(`  feedback id overflow (ids reused): ${feedback.map((f) => f.overflow).join(', ')}`);

  if (profiles?.predict) {
    const p = profiles.predict;
    log('');
    log(`CPU profile of the Relearn child, predict closed loop: busy ${fmt(p.busyMs)} ms of ${fmt(p.totalMs)} ms`);
    log(
      '  self time by package: ' +
        p.packages
          .slice(0, 12)
          .map(([k, v]) => `${k} ${fmt((100 * v) / p.busyMs, 1)}%`)
          .join(', '),
    );
    log(
      '  top self: ' +
        p.self
          .slice(0, 10)
          .map(([k, v]) => `${k} ${fmt((100 * v) / p.busyMs, 1)}%`)
          .join('; '),
    );
    log('  (full self/inclusive lists in the JSON results and the .cpuprofile)');
  }

  log('');
  log(
    `machine load average at the end: ${os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' ')} (other work on this shared machine shows here)`,
  );
  log('');
  log('Summary');
  log(
    table([
      ['', 'value', 'target', ''],
      ['bare node:http req/s (median)', fmt(median(rps('bare'))), '', ''],
      ['minimal yoga req/s (median)', fmt(median(rps('yoga'))), '', ''],
      ['Relearn predict req/s (median)', fmt(median(rps('relearn'))), '', ''],
      ['yoga / bare', fmt(median(ratioYB), 3), '(ref. ~0.12)', ''],
      ...targets.map((t) => [
        t.what,
        fmt(t.value, t.what.includes('ms') ? 2 : t.value < 10 ? 3 : 0),
        t.target,
        Number.isNaN(t.value) ? 'skipped' : t.met ? 'met' : 'MISSED',
      ]),
      ['Relearn feedback/s / bare req/s', fmt(median(feedbackRates) / median(rps('bare')), 3), '', ''],
      ['failures', String(totalFailures), '0', totalFailures === 0 ? 'ok' : 'FAIL'],
      [
        'lost predictions / feedback',
        `${integrity.predictions.lost} / ${integrity.feedback.lost}`,
        '0 / 0',
        integrity.predictions.lost + integrity.feedback.lost === 0 ? 'ok' : 'FAIL',
      ],
    ]),
  );

  const ok = totalFailures === 0 && integrity.predictions.lost === 0 && integrity.feedback.lost === 0;
  const out = writeResults('predict-latest.json', {
    date: new Date().toISOString(),
    ok,
    machine: { ...machine, loadAtEnd: os.loadavg() },
    postgres,
    settings: {
      phases: [...phases],
      selectModelVersion: SELECT_MODEL_VERSION,
      quick,
      duration,
      rounds,
      warmup,
      rate,
      openSeconds,
      feedbackPerRound,
      connections,
      bodies: PREDICT_BODIES.length,
      document: PREDICT,
    },
    answerBytes: Buffer.byteLength(sample.text),
    sameBytes,
    throughput: {
      perRound: throughput.map((round) =>
        Object.fromEntries(round.map((x) => [x.server, { perSecond: x.perSecond, p50: x.p50, p99: x.p99, seconds: x.seconds, ...x.tally }])),
      ),
      median: { bare: median(rps('bare')), yoga: median(rps('yoga')), relearn: median(rps('relearn')) },
      ratios: {
        relearnOverYoga: median(ratioRY),
        yogaOverBare: median(ratioYB),
        relearnOverBare: median(ratioRB),
        perRound: { relearnOverYoga: ratioRY, yogaOverBare: ratioYB },
      },
    },
    openLoop: open,
    relearnSettings: relearnRows.map((r) => ({
      name: r.name,
      fastPath: r.settings[0],
      predictionCommit: r.settings[1],
      perSecond: r.perSecond,
      overBare: median(r.ratios),
      overBarePerRound: r.ratios,
      gcShare: r.gcShare,
      openLoop: { [rate]: r.low ?? null, [s.highRate]: r.high ?? null },
      diagnostics: r.runs.map((x) => x.diag),
    })),
    autocannonOverallRate: acRate ? { rate, p50: acRate.p50, p99: acRate.p99, perSecond: acRate.perSecond, ...acRate.tally } : null,
    diagnostics: { throughput: throughputDiag, openLoop: openDiag ?? null, feedback: feedbackDiag },
    feedback: {
      perRound: feedback.map((f) => ({
        perSecond: f.run.perSecond,
        p50: f.run.p50,
        p99: f.run.p99,
        seconds: f.run.seconds,
        created: f.created,
        createSeconds: f.createSeconds,
        overflow: f.overflow,
        ...f.run.tally,
      })),
      median: median(feedbackRates),
      openLoop: feedbackOpen ? { rate: feedbackOpen.rate, p50: feedbackOpen.p50, p99: feedbackOpen.p99, ...feedbackOpen.tally } : null,
    },
    integrity,
    failures: totalFailures,
    failedRuns: failed.map((f) => ({ what: f.what, ...f.tally })),
    targets,
    ...(profiles ? { profiles } : {}),
  });
  log(`\nresults: ${out}${ok ? '' : '  (FAILED: errors or lost rows)'}`);
  return ok ? 0 : 1;
}

runBenchmark(main, { bare: () => serveAsChild('bare'), yoga: () => serveAsChild('yoga'), relearn: () => serveAsChild('relearn') });
