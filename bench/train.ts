// Retraining benchmark (`npm run bench:train`; `--quick` for a short run, `--help` for options).
//
// Relearn runs as a child process (`node --import tsx server/src/main.ts`) against a private,
// durable PostgreSQL (fsync on), TRAINER=in-process, local blob store and embedded registry, with
// two extra tasks from bench/tasks/: fraud100k and fraud1m (copies of the fraud task with 100k and
// 1M bootstrap rows, no training window, triggers that never fire by themselves).
//
//   1. Start-up: time until /readyz answers 200 (every task bootstrapped; the 1M-row first
//      training is the longest), and each bootstrap training's own duration (training_run).
//   2. Retrain steps: per round and size, 2,000 predictions with truthful feedback (fraud
//      generator at drift 1), then triggerRetrain; each step timed from the retrainStatus
//      subscription (graphql-ws): end to end = first non-QUEUED push -> final push, and each
//      state until the next one. Median over rounds.
//   3. Predict p99 idle vs during a 1M retrain: an open loop at a fixed rate on the built-in
//      `fraud` task (one constant document, inputs as variables, latency from each request's due
//      time), for the same duration idle and while the retrain runs.
// Every answer is checked (status, GraphQL errors, ids): any error fails the run.
// The child preloads bench/train-probe.ts (event-loop delay and GC of its main thread, read per
// latency run). Where a retrain's time goes, stage by stage: `tsx bench/train-stages.ts`.
// See /work/shared/reference/performance.md for the protocol followed here.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { generateFraudRows } from '../server/src/tasks/data/fraud-generator.js';
import { checkJson, Tallies, type Tally } from './lib/checks.js';
import { runBenchmark } from './lib/children.js';
import { openLoop as openLoopOf } from './lib/load.js';
import { machineInfo, machineLine } from './lib/machine.js';
import { startBenchPostgres } from './lib/postgres.js';
import { startRelearn, waitReady, type LoopStats, type Relearn } from './lib/relearn-process.js';
import { BENCH_DIR, fmt, log, median, pct, progress, RESULTS_DIR, ROOT, table, writeResults } from './lib/report.js';
import { HEADERS, PREDICT_BATCH, predictBodies, predictDocument } from './lib/workload.js';

const TASK_FILES = [join(BENCH_DIR, 'tasks', 'fraud100k.json'), join(BENCH_DIR, 'tasks', 'fraud1m.json')];
const SIZES = [
  { model: 'fraud100k', rows: 100_000, label: '100k' },
  { model: 'fraud1m', rows: 1_000_000, label: '1M' },
] as const;
const ADMIN_TOKEN = 'bench-train-admin-token-0123456789';
const DB_NAME = 'relearn_bench_train';
const STEPS = ['SNAPSHOTTING', 'TRAINING', 'EVALUATING', 'REGISTERING'] as const;
const FINAL = new Set(['PROMOTED', 'REJECTED', 'FAILED']);

// ---------------------------------------------------------------------------------------------
// What is sent: one constant document per operation, inputs as variables.

const PREDICT = predictDocument();
const FEEDBACK = /* GraphQL */ `mutation Feedback($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`;
const TRIGGER = /* GraphQL */ `mutation Trigger($model: String!, $reason: String) { triggerRetrain(model: $model, reason: $reason) { id state } }`;
const RETRAIN_STATUS = /* GraphQL */ `subscription Status($model: String!) {
  retrainStatus(model: $model) { id model state progress version message attempts }
}`;
const PREDICT_BODIES = predictBodies(PREDICT);

// ---------------------------------------------------------------------------------------------
// Failures: every answer is checked; any failure fails the run.

const tallies = new Tallies();
const tallied = (what: string) => tallies.start(what);

async function gql(base: string, tally: Tally, query: string, variables: Record<string, unknown>, ok: (json: any) => boolean, admin = false) {
  try {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { ...HEADERS, ...(admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
    return checkJson(tally, res.status, await res.text(), ok);
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') tally.timeouts++;
    else tally.netErrors++;
    tally.firstError ??= String(error);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// retrainStatus over graphql-ws: every push of every job, timestamped on arrival.

interface Push {
  t: number;
  id: string;
  state: string;
  progress: number;
  version: number | null;
  message: string | null;
  attempts: number;
}

class StatusWatcher {
  readonly pushes = new Map<string, Push[]>();
  private readonly waiters = new Map<string, (p: Push) => void>();
  private readonly client: Client;
  readonly errors: string[] = [];

  constructor(port: number, models: string[]) {
    this.client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
    for (const model of models) {
      this.client.subscribe<{ retrainStatus: Omit<Push, 't'> }>(
        { query: RETRAIN_STATUS, variables: { model } },
        {
          next: (r) => {
            const t = performance.now();
            if (r.errors) {
              this.errors.push(JSON.stringify(r.errors).slice(0, 300));
              return;
            }
            const job = r.data?.retrainStatus;
            if (!job) return;
            const push: Push = { t, ...job };
            const list = this.pushes.get(job.id) ?? [];
            list.push(push);
            this.pushes.set(job.id, list);
            if (FINAL.has(job.state)) this.waiters.get(job.id)?.(push);
          },
          error: (e) => this.errors.push(`subscription ${model}: ${String((e as Error)?.message ?? JSON.stringify(e))}`),
          complete: () => {},
        },
      );
    }
  }

  /** Resolves with the job's final push (PROMOTED, REJECTED or FAILED). */
  final(jobId: string, timeoutMs: number): Promise<Push> {
    const done = this.pushes.get(jobId)?.find((p) => FINAL.has(p.state));
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`retrain ${jobId} not finished within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(jobId, (p) => {
        clearTimeout(timer);
        this.waiters.delete(jobId);
        resolve(p);
      });
    });
  }

  dispose() {
    return this.client.dispose();
  }
}

interface RetrainTiming {
  model: string;
  round: number;
  phase: 'steps' | 'under-load';
  jobId: string;
  state: string;
  version: number | null;
  message: string | null;
  /** triggerRetrain sent -> first non-QUEUED push (queue pick-up). */
  queueMs: number;
  /** First non-QUEUED push -> final push. */
  endToEndMs: number;
  /** triggerRetrain sent -> final push. */
  triggerToFinalMs: number;
  /** Each state until the next one. */
  steps: Record<string, number>;
  window: [number, number];
  feedbackSeconds: number;
}

function timing(pushes: Push[], sentAt: number): Pick<RetrainTiming, 'queueMs' | 'endToEndMs' | 'triggerToFinalMs' | 'steps' | 'window'> {
  const distinct: Push[] = [];
  for (const p of [...pushes].sort((a, b) => a.t - b.t)) if (distinct.at(-1)?.state !== p.state) distinct.push(p);
  const startIdx = distinct.findIndex((p) => p.state !== 'QUEUED');
  const first = distinct[startIdx]!;
  const last = distinct.at(-1)!;
  const steps: Record<string, number> = {};
  for (let i = startIdx; i < distinct.length - 1; i++) steps[distinct[i]!.state] = (steps[distinct[i]!.state] ?? 0) + distinct[i + 1]!.t - distinct[i]!.t;
  return { queueMs: first.t - sentAt, endToEndMs: last.t - first.t, triggerToFinalMs: last.t - sentAt, steps, window: [first.t, last.t] };
}

// ---------------------------------------------------------------------------------------------
// Feedback and retrains.

/** `n` predictions of `model` (drift 1 fraud rows) by predictBatch, then truthful feedback on each. */
async function sendFeedback(base: string, model: string, n: number, seed: number): Promise<number> {
  const started = performance.now();
  const rows = generateFraudRows(n, { seed, drift: 1 });
  const tally = tallied(`feedback ${model} predictBatch`);
  const ids: { id: string; label: string }[] = [];
  for (let i = 0; i < n; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const json = await gql(
      base,
      tally,
      PREDICT_BATCH,
      { inputs: chunk.map((r) => ({ [model]: r.input })) },
      (j) => Array.isArray(j.data?.predictBatch) && j.data.predictBatch.length === chunk.length,
    );
    if (json) json.data.predictBatch.forEach((p: { id: string }, k: number) => ids.push({ id: p.id, label: chunk[k]!.label }));
  }
  const fb = tallied(`feedback ${model} submitFeedback`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const { id, label } = ids[next++]!;
        await gql(base, fb, FEEDBACK, { input: { predictionId: id, actual: label } }, (j) => typeof j.data?.submitFeedback?.id === 'string');
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function retrain(
  relearn: Relearn,
  watcher: StatusWatcher,
  model: string,
  round: number,
  phase: RetrainTiming['phase'],
  feedbackSeconds: number,
  beforeTrigger?: () => void,
): Promise<RetrainTiming | null> {
  const tally = tallied(`triggerRetrain ${model} round ${round} (${phase})`);
  beforeTrigger?.();
  const sentAt = performance.now();
  const json = await gql(
    relearn.base,
    tally,
    TRIGGER,
    { model, reason: `bench/train.ts ${phase} round ${round}` },
    (j) => typeof j.data?.triggerRetrain?.id === 'string',
    true,
  );
  if (!json) return null;
  const jobId = json.data.triggerRetrain.id as string;
  const final = await watcher.final(jobId, 30 * 60_000);
  if (final.state === 'FAILED') {
    tally.gqlErrors++;
    tally.firstError ??= `retrain FAILED: ${final.message}`;
  }
  return {
    model,
    round,
    phase,
    jobId,
    state: final.state,
    version: final.version,
    message: final.message,
    feedbackSeconds,
    ...timing(watcher.pushes.get(jobId)!, sentAt),
  };
}

// ---------------------------------------------------------------------------------------------
// Open loop: request i is due at t0 + i/rate whatever happened before; latency counted from its
// due time (client or server queueing shows). Runs for `seconds`, or until stop() is called.

/** The predict open loop on the fraud task, every answer checked under `what`. */
function openLoop(port: number, rate: number, what: string, seconds = Infinity) {
  const tally = tallied(what);
  const loop = openLoopOf({
    port,
    rate,
    seconds,
    bodies: PREDICT_BODIES,
    maxSockets: 256,
    timeoutMs: 10_000,
    onAnswer: (status, text) => void checkJson(tally, status, text, (j) => typeof j.data?.predict?.id === 'string'),
    onTimeout: () => {
      tally.timeouts++;
      tally.firstError ??= 'timeout';
    },
    onError: (e, destroyed) => {
      if (!destroyed) tally.netErrors++;
      tally.firstError ??= e.message;
    },
  });
  return { stop: loop.stop, done: loop.done.then((run) => ({ ...run, samples: run.samples.map((x) => ({ due: x.due, ms: x.fromDue })), tally })) };
}

interface LatencyRun {
  p50: number;
  p99: number;
  max: number;
  n: number;
  seconds: number;
  /** The Relearn main thread over the whole run. */
  loop: LoopStats;
  /** PostgreSQL over the whole run (+ about a second either side). */
  wal: { fsyncs: number; fsyncAvgMs: number; checkpoints: number };
}

const sec = (ms: number) => fmt(ms / 1000, 2);

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      'load-rounds': { type: 'string' },
      feedback: { type: 'string', default: '2000' },
      rate: { type: 'string', default: '200' },
      settle: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    log(`npm run bench:train -- [--quick] [--rounds N=3 (retrain rounds per size; --quick 1)]
                       [--load-rounds N=2 (idle vs during-1M-retrain predict p99 rounds; --quick 1)]
                       [--feedback N=2000 (labelled feedback sent before each retrain)]
                       [--rate R=200 (open-loop predictions/s on the fraud task)]
                       [--settle S=10 (pause before each idle open loop, after the previous retrain)]
                       [--cpu-prof (run Relearn with --cpu-prof; profiles of the main thread and
                                    training workers go to bench/results/train-cpuprof/)]
Sizes: fraud100k (100,000 bootstrap rows) and fraud1m (1,000,000), from bench/tasks/*.json.
Targets: 1M retrain end to end <= 20 s (first non-QUEUED -> final retrainStatus push);
         predict p99 during the 1M retrain <= 2x idle; no errors.`);
    return 0;
  }
  const quick = args.quick;
  const rounds = Number(args.rounds ?? (quick ? 1 : 3));
  const loadRounds = Number(args['load-rounds'] ?? (quick ? 1 : 2));
  const feedbackPerRetrain = Number(args.feedback);
  const rate = Number(args.rate);
  const settleSeconds = Number(args.settle ?? 10);
  const baselineSeconds = quick ? 10 : 15;

  const machine = machineInfo();
  log(`Relearn retraining benchmark  ${new Date().toISOString()}${quick ? '  (--quick: 1 round, indicative only)' : ''}`);
  log(machineLine(machine));
  log(`setup: Relearn child (node --import tsx server/src/main.ts), TRAINER=in-process, local blob store, embedded registry,`);
  log(
    `       tasks fraud + spam (built in) + ${TASK_FILES.map((f) => relative(ROOT, f)).join(', ')}; this process (load, feedback, ws client) shares the cores`,
  );

  const tmp = mkdtempSync(join(os.tmpdir(), 'relearn-bench-train-'));
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  const cpuProfDir = join(RESULTS_DIR, 'train-cpuprof');
  let pg: Awaited<ReturnType<typeof startBenchPostgres>> | undefined;
  let relearn: Relearn | undefined;
  let watcher: StatusWatcher | undefined;
  let keepTmp = false;
  try {
    progress('starting PostgreSQL (durable: fsync on)');
    pg = await startBenchPostgres(DB_NAME);
    const { db, url: dbUrl } = pg;
    const postgres = await pg.describe(['fsync', 'synchronous_commit']);
    log(`database: ${postgres.version}, fsync=${postgres.fsync}, synchronous_commit=${postgres.synchronous_commit}, data on ${postgres.filesystem}`);

    // ------------------------------------------------------------------ start-up (bootstrap)
    progress('starting Relearn (bootstraps fraud, spam, fraud100k, fraud1m: the 1M first training takes a while)');
    if (args['cpu-prof']) {
      rmSync(cpuProfDir, { recursive: true, force: true });
      mkdirSync(cpuProfDir, { recursive: true });
    }
    relearn = await startRelearn(
      { DATABASE_URL: dbUrl, DATA_DIR: dataDir, TRAINER: 'in-process', ADMIN_TOKEN, TASKS: TASK_FILES.join(',') },
      join(tmp, 'relearn.log'),
      args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, '--cpu-prof-interval=1000'] : [],
    );
    const ready = await waitReady(relearn, 30 * 60_000);
    const bootstraps = (
      await db.query<{ model: string; ms: number; state: string }>(
        `select model, duration_ms as ms, state from training_run where reason like 'bootstrap%' order by id`,
      )
    ).rows;
    progress(`ready after ${sec(ready.readyMs)} s (${bootstraps.map((b) => `${b.model} ${sec(b.ms)} s`).join(', ')})`);

    watcher = new StatusWatcher(
      relearn.port,
      SIZES.map((s) => s.model),
    );
    const subscriptionErrors = watcher.errors;
    await sleep(500);

    // Diagnostics around each latency run: the child's event loop and GC, PostgreSQL WAL fsyncs.
    await pg.timeWalSyncs();
    const walStats = () => pg!.activity();
    const measured = async (run: () => Promise<{ ms: number[]; seconds: number }>): Promise<LatencyRun> => {
      await sleep(1100); // PostgreSQL flushes its statistics at most once a second
      const before = await walStats();
      await relearn!.probe();
      const { ms, seconds } = await run();
      const loop = await relearn!.probe();
      await sleep(1100);
      const after = await walStats();
      const syncs = after.syncs - before.syncs;
      return {
        p50: pct(ms, 0.5),
        p99: pct(ms, 0.99),
        max: pct(ms, 1),
        n: ms.length,
        seconds,
        loop,
        wal: { fsyncs: syncs, fsyncAvgMs: syncs ? (after.syncMs - before.syncMs) / syncs : NaN, checkpoints: after.checkpoints - before.checkpoints },
      };
    };
    progress(`warm-up open loop ${rate}/s 3 s, then a ${baselineSeconds} s idle open loop before any retrain (reference)`);
    await openLoop(relearn.port, rate, 'warm-up open loop', 3).done;
    const baseline = await measured(async () => ({
      ms: (await openLoop(relearn!.port, rate, 'baseline idle open loop', baselineSeconds).done).samples.map((s) => s.ms),
      seconds: baselineSeconds,
    }));
    progress(`  idle before any retrain: p50 ${fmt(baseline.p50, 2)} ms, p99 ${fmt(baseline.p99, 2)} ms`);

    // ------------------------------------------------------------------ retrain steps
    const timings: RetrainTiming[] = [];
    let seed = 1000;
    for (let r = 1; r <= rounds; r++) {
      for (const size of SIZES) {
        progress(`round ${r}/${rounds} ${size.label}: ${feedbackPerRetrain} predictions + truthful feedback, then triggerRetrain`);
        const fbSeconds = await sendFeedback(relearn.base, size.model, feedbackPerRetrain, seed++);
        await sleep(1000);
        const t = await retrain(relearn, watcher, size.model, r, 'steps', fbSeconds);
        if (t) {
          timings.push(t);
          progress(
            `  ${t.state} v${t.version} in ${sec(t.endToEndMs)} s (queue ${sec(t.queueMs)} s): ` +
              Object.entries(t.steps)
                .map(([k, v]) => `${k} ${sec(v)}`)
                .join(', '),
          );
        }
      }
    }

    // ------------------------------------------------------------------ predict p99 idle vs during a 1M retrain
    const m1 = timings.filter((t) => t.model === 'fraud1m');
    const idleSeconds = Math.max(5, Math.round(median(m1.map((t) => t.endToEndMs)) / 1000)) || 20;
    const loadRuns: { round: number; idle: LatencyRun; during: LatencyRun; retrain: RetrainTiming | null }[] = [];
    for (let r = 1; r <= loadRounds; r++) {
      progress(`load round ${r}/${loadRounds}: ${settleSeconds} s pause, then idle open loop ${rate}/s for ${idleSeconds} s`);
      await sleep(settleSeconds * 1000);
      const idle = await measured(async () => {
        const run = await openLoop(relearn!.port, rate, `idle open loop round ${r}`, idleSeconds).done;
        return { ms: run.samples.map((s) => s.ms), seconds: idleSeconds };
      });
      progress(`load round ${r}/${loadRounds}: ${feedbackPerRetrain} feedback on fraud1m, then open loop ${rate}/s while the 1M retrain runs`);
      const fbSeconds = await sendFeedback(relearn.base, 'fraud1m', feedbackPerRetrain, seed++);
      let t: RetrainTiming | null = null;
      const during = await measured(async () => {
        const loop = openLoop(relearn!.port, rate, `during-retrain open loop round ${r}`);
        await sleep(1000);
        t = await retrain(relearn!, watcher!, 'fraud1m', r, 'under-load', fbSeconds);
        loop.stop();
        const run = await loop.done;
        // Only requests due while the retrain ran (first non-QUEUED push -> final push).
        const w = t?.window;
        return { ms: w ? run.samples.filter((s) => s.due >= w[0] && s.due <= w[1]).map((s) => s.ms) : [], seconds: t ? t.endToEndMs / 1000 : NaN };
      });
      if (t) timings.push(t);
      loadRuns.push({ round: r, idle, during, retrain: t });
      progress(`  idle p99 ${fmt(idle.p99, 1)} ms, during retrain p99 ${fmt(during.p99, 1)} ms (${fmt(during.p99 / idle.p99, 2)}x)`);
    }

    // Dataset sizes the retrains trained on.
    const datasets = (
      await db.query<{ model: string; version: number; rows: string }>(
        `select model, version, manifest->>'rowCount' as rows from dataset_version where model like 'fraud%' order by model, version`,
      )
    ).rows;

    progress('stopping Relearn');
    await watcher.dispose();
    watcher = undefined;
    const exitCode = await relearn.stop();

    // ------------------------------------------------------------------ report
    const stepTimings = timings.filter((t) => t.phase === 'steps');
    const bySize = SIZES.map((size) => {
      const ts = stepTimings.filter((t) => t.model === size.model);
      const steps = Object.fromEntries(STEPS.map((s) => [s, median(ts.map((t) => t.steps[s] ?? NaN))]));
      return {
        size: size.label,
        model: size.model,
        rounds: ts.length,
        states: ts.map((t) => t.state),
        steps,
        endToEndMs: median(ts.map((t) => t.endToEndMs)),
        endToEndPerRound: ts.map((t) => t.endToEndMs),
        queueMs: median(ts.map((t) => t.queueMs)),
        triggerToFinalMs: median(ts.map((t) => t.triggerToFinalMs)),
      };
    });
    const underLoad = timings.filter((t) => t.phase === 'under-load');
    const m1Steps = bySize.find((b) => b.model === 'fraud1m')!;
    const ratios = loadRuns.map((l) => l.during.p99 / l.idle.p99);
    const idleP99 = median(loadRuns.map((l) => l.idle.p99));
    const duringP99 = median(loadRuns.map((l) => l.during.p99));
    const ratio = median(ratios);
    const totalFailures = tallies.totalFailures;
    const wsErrors = subscriptionErrors.length;
    const failed = tallies.failed;
    const boot1m = bootstraps.find((b) => b.model === 'fraud1m');
    const targets = [
      { what: '1M retrain end to end, median (s)', value: m1Steps.endToEndMs / 1000, target: '<= 20', met: m1Steps.endToEndMs <= 20_000 },
      { what: `predict p99 during 1M retrain / idle (${rate}/s)`, value: ratio, target: '<= 2', met: ratio <= 2 },
      { what: 'errors (HTTP, GraphQL, retrain FAILED, ws)', value: totalFailures + wsErrors, target: '0', met: totalFailures + wsErrors === 0 },
    ];

    log('');
    log(`Start-up: HTTP up after ${sec(ready.httpUpMs)} s; all models live (/readyz 200) after ${sec(ready.readyMs)} s`);
    log(
      `  bootstrap trainings (concurrent, each in its own worker; training_run.duration_ms): ` +
        bootstraps.map((b) => `${b.model} ${sec(b.ms)} s${b.state === 'SUCCEEDED' ? '' : ` ${b.state}`}`).join(', '),
    );
    log('');
    log(`Retrain steps, median of ${rounds} round(s) per size (s; ${feedbackPerRetrain} new labelled feedback per retrain; from retrainStatus pushes)`);
    log(
      table([
        ['size', ...STEPS, 'end to end', 'per round', 'queue wait', 'trigger->final', 'outcome'],
        ...bySize.map((b) => [
          `${b.size} (${b.model})`,
          ...STEPS.map((s) => sec(b.steps[s]!)),
          sec(b.endToEndMs),
          b.endToEndPerRound.map((x) => sec(x)).join(' / '),
          sec(b.queueMs),
          sec(b.triggerToFinalMs),
          b.states.join(','),
        ]),
        ...(underLoad.length
          ? [
              [
                `1M under ${rate}/s predict load`,
                ...STEPS.map((s) => sec(median(underLoad.map((t) => t.steps[s] ?? NaN)))),
                sec(median(underLoad.map((t) => t.endToEndMs))),
                underLoad.map((t) => sec(t.endToEndMs)).join(' / '),
                sec(median(underLoad.map((t) => t.queueMs))),
                sec(median(underLoad.map((t) => t.triggerToFinalMs))),
                underLoad.map((t) => t.state).join(','),
              ],
            ]
          : []),
      ]),
    );
    log('(end to end = first non-QUEUED push -> PROMOTED/REJECTED push; a state lasts until the next state is pushed;');
    log(' SNAPSHOTTING = read parent + feedback, worker: parse, validate, split/dedupe; TRAINING = fit while the main thread stores the dataset;');
    log(' EVALUATING = evaluate + wait for the dataset write; REGISTERING = registry, model version, promotion)');
    log(
      `dataset rows: ${SIZES.map(
        (s) =>
          `${s.model} ${datasets
            .filter((d) => d.model === s.model)
            .map((d) => fmt(Number(d.rows)))
            .join(' -> ')}`,
      ).join('; ')}`,
    );
    log('');
    log(`Predict latency, open loop ${rate}/s on the fraud task, ms from each request's due time; Relearn main-thread event-loop delay and GC; WAL fsyncs`);
    const latRow = (name: string, l: LatencyRun, ratioText = '') => [
      name,
      fmt(l.seconds, 1),
      fmt(l.n),
      fmt(l.p50, 2),
      fmt(l.p99, 2),
      fmt(l.max, 1),
      ratioText,
      `${fmt(l.loop.p99, 1)} / ${fmt(l.loop.max, 0)}`,
      `${l.loop.gc.major} / ${fmt(l.loop.gc.majorMaxMs, 0)}`,
      `${fmt(l.wal.fsyncs / l.seconds, 0)} x ${fmt(l.wal.fsyncAvgMs, 2)}`,
    ];
    log(
      table([
        ['', 's', 'requests', 'p50', 'p99', 'max', 'p99 ratio', 'loop p99/max ms', 'major GC n/max ms', 'WAL fsync/s x ms'],
        latRow('idle, before any retrain', baseline),
        ...loadRuns.flatMap((l) => [
          latRow(`round ${l.round} idle`, l.idle),
          latRow(`round ${l.round} during 1M retrain`, l.during, fmt(l.during.p99 / l.idle.p99, 2)),
        ]),
        ['median p99 idle / during', '', '', '', `${fmt(idleP99, 2)} / ${fmt(duringP99, 2)}`, '', fmt(ratio, 2), '', '', ''],
      ]),
    );
    log('(during = requests due between the first non-QUEUED and the final push of the 1M retrain)');
    log('');
    log(
      `failures (every answer checked): ${totalFailures}; subscription errors: ${wsErrors}; Relearn log: ${relearn.logCounts.error} error, ${relearn.logCounts.warn} warn lines; exit code ${exitCode}`,
    );
    for (const f of failed) log(`  ${f.what}: ${JSON.stringify({ ...f.tally, firstError: undefined })} first: ${f.tally.firstError}`);
    if (relearn.logCounts.firstError) log(`  first error logged by Relearn: ${relearn.logCounts.firstError}`);
    log('');
    log('Summary');
    log(
      table([
        ['', 'value', 'target', ''],
        ['1M first training (bootstrap, s)', sec(boot1m?.ms ?? NaN), '', ''],
        ['100k retrain end to end, median (s)', sec(bySize[0]!.endToEndMs), '', ''],
        ...targets.map((t) => [t.what, fmt(t.value, t.what.includes('errors') ? 0 : 2), t.target, t.met ? 'ok' : 'MISSED']),
      ]),
    );

    const ok = totalFailures + wsErrors === 0;
    const out = writeResults('train-latest.json', {
      date: new Date().toISOString(),
      ok,
      machine: { ...machine, loadAtEnd: os.loadavg() },
      postgres,
      settings: {
        quick,
        rounds,
        loadRounds,
        feedbackPerRetrain,
        rate,
        idleSeconds,
        settleSeconds,
        baselineSeconds,
        taskFiles: TASK_FILES.map((f) => relative(ROOT, f)),
        document: PREDICT,
      },
      startup: { httpUpMs: ready.httpUpMs, readyMs: ready.readyMs, bootstraps },
      retrainSteps: bySize,
      retrains: timings.map(({ window: _w, ...t }) => t),
      datasets,
      predictLatency: {
        baselineIdle: baseline,
        rounds: loadRuns.map(({ retrain: rt, ...l }) => ({ ...l, ratio: l.during.p99 / l.idle.p99, retrainJob: rt?.jobId })),
        idleP99,
        duringP99,
        ratio,
      },
      failures: totalFailures,
      subscriptionErrors,
      failedRuns: failed.map((f) => ({ what: f.what, ...f.tally })),
      relearnLog: relearn.logCounts,
      targets,
    });
    log(`\nresults: ${out}${ok ? '' : '  (FAILED: errors)'}${args['cpu-prof'] ? `; CPU profiles in ${relative(process.cwd(), cpuProfDir)}` : ''}`);
    return ok ? 0 : 1;
  } catch (error) {
    keepTmp = true;
    if (relearn) {
      console.error(`Relearn log (kept): ${relearn.logFile}`);
      try {
        console.error(readFileSync(relearn.logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n'));
      } catch {
        /* no log */
      }
    }
    throw error;
  } finally {
    progress('stopping Relearn and PostgreSQL');
    if (watcher) await watcher.dispose();
    await relearn?.stop().catch(() => undefined);
    await pg?.stop();
    if (!keepTmp) rmSync(tmp, { recursive: true, force: true });
  }
}

runBenchmark(main, {});
