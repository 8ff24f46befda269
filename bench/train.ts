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
import { generateFraudRows } from '../server/src/tasks/data/fraud-generator.js';
import { checkJson, Tallies, type Tally } from './lib/checks.js';
import { runBenchmark } from './lib/children.js';
import { diagnosed } from './lib/diagnostics.js';
import { checkedOpenLoop } from './lib/load.js';
import { machineInfo, machineLine, type MachineInfo } from './lib/machine.js';
import { startBenchPostgres, type BenchPostgres } from './lib/postgres.js';
import { startRelearn, waitReady, type LoopStats, type Relearn } from './lib/relearn-process.js';
import { BENCH_DIR, fmt, log, median, pct, progress, RESULTS_DIR, ROOT, table, writeResults } from './lib/report.js';
import { StatusWatcher, stepTiming, type StepTiming } from './lib/retrain-status.js';
import { checkedGraphql, predictBodies, predictDocument, predictMany } from './lib/workload.js';

const TASK_FILES = [join(BENCH_DIR, 'tasks', 'fraud100k.json'), join(BENCH_DIR, 'tasks', 'fraud1m.json')];
const SIZES = [
  { model: 'fraud100k', rows: 100_000, label: '100k' },
  { model: 'fraud1m', rows: 1_000_000, label: '1M' },
] as const;
const ADMIN_TOKEN = 'bench-train-admin-token-0123456789';
const DB_NAME = 'relearn_bench_train';
const STEPS = ['SNAPSHOTTING', 'TRAINING', 'EVALUATING', 'REGISTERING'] as const;
const CPU_PROF_DIR = join(RESULTS_DIR, 'train-cpuprof');

// ---------------------------------------------------------------------------------------------
// What is sent: one constant document per operation, inputs as variables.

const PREDICT = predictDocument();
const FEEDBACK = /* GraphQL */ `mutation Feedback($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`;
const TRIGGER = /* GraphQL */ `mutation Trigger($model: String!, $reason: String) { triggerRetrain(model: $model, reason: $reason) { id state } }`;
const PREDICT_BODIES = predictBodies(PREDICT);

interface Settings {
  quick: boolean;
  rounds: number;
  loadRounds: number;
  feedbackPerRetrain: number;
  rate: number;
  settleSeconds: number;
  baselineSeconds: number;
  cpuProf: boolean;
}

/** The command line, or null after --help. */
function settings(): Settings | null {
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
    return null;
  }
  const quick = args.quick;
  return {
    quick,
    rounds: Number(args.rounds ?? (quick ? 1 : 3)),
    loadRounds: Number(args['load-rounds'] ?? (quick ? 1 : 2)),
    feedbackPerRetrain: Number(args.feedback),
    rate: Number(args.rate),
    settleSeconds: Number(args.settle ?? 10),
    baselineSeconds: quick ? 10 : 15,
    cpuProf: args['cpu-prof'],
  };
}

// ---------------------------------------------------------------------------------------------
// Failures: every answer is checked; any failure fails the run.

const tallies = new Tallies();
const tallied = (what: string) => tallies.start(what);

const gql = (base: string, tally: Tally, query: string, variables: Record<string, unknown>, ok: (json: any) => boolean, admin = false) =>
  checkedGraphql(base, tally, query, variables, ok, admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {});

// ---------------------------------------------------------------------------------------------
// Feedback and retrains.

interface RetrainTiming extends StepTiming {
  model: string;
  round: number;
  phase: 'steps' | 'under-load';
  jobId: string;
  state: string;
  version: number | null;
  message: string | null;
  feedbackSeconds: number;
}

/** `n` predictions of `model` (drift 1 fraud rows) by predictBatch, then truthful feedback on each. */
async function sendFeedback(base: string, model: string, n: number, seed: number): Promise<number> {
  const started = performance.now();
  const rows = generateFraudRows(n, { seed, drift: 1 });
  const predicted = await predictMany(
    base,
    tallied(`feedback ${model} predictBatch`),
    rows.map((r) => ({ [model]: r.input })),
  );
  const ids = predicted.flatMap((id, k) => (id ? [{ id, label: rows[k]!.label }] : []));
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

/** triggerRetrain, then the job's steps from its retrainStatus pushes (null when the trigger failed). */
async function retrain(
  relearn: Relearn,
  watcher: StatusWatcher,
  model: string,
  round: number,
  phase: RetrainTiming['phase'],
  feedbackSeconds: number,
): Promise<RetrainTiming | null> {
  const tally = tallied(`triggerRetrain ${model} round ${round} (${phase})`);
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
    ...stepTiming(watcher.pushes.get(jobId)!, sentAt),
  };
}

// ---------------------------------------------------------------------------------------------
// Predict latency: an open loop (request i due at t0 + i/rate; latency from its due time) on the
// fraud task, for `seconds` or until stop(), with the child's loop and PostgreSQL's WAL around it.

function openLoop(port: number, rate: number, what: string, seconds = Infinity) {
  const tally = tallied(what);
  const loop = checkedOpenLoop({
    port,
    rate,
    seconds,
    bodies: PREDICT_BODIES,
    tally,
    onAnswer: (status, text) => void checkJson(tally, status, text, (j) => typeof j.data?.predict?.id === 'string'),
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

interface Bench {
  settings: Settings;
  machine: MachineInfo;
  pg: BenchPostgres;
  postgres: Record<string, string>;
  relearn: Relearn;
  watcher: StatusWatcher;
  ready: { httpUpMs: number; readyMs: number };
  bootstraps: { model: string; ms: number; state: string }[];
}

async function measured(bench: Bench, run: () => Promise<{ ms: number[]; seconds: number }>): Promise<LatencyRun> {
  const probe = { reset: () => bench.relearn.probe(), read: () => bench.relearn.probe() };
  const { result, diag } = await diagnosed(bench.pg, probe, run);
  const { ms, seconds } = result;
  return {
    p50: pct(ms, 0.5),
    p99: pct(ms, 0.99),
    max: pct(ms, 1),
    n: ms.length,
    seconds,
    loop: diag.loop,
    wal: { fsyncs: diag.walFsyncs, fsyncAvgMs: diag.walFsyncAvgMs, checkpoints: diag.checkpoints },
  };
}

const idleRun = (bench: Bench, what: string, seconds: number) =>
  measured(bench, async () => ({ ms: (await openLoop(bench.relearn.port, bench.settings.rate, what, seconds).done).samples.map((s) => s.ms), seconds }));

const sec = (ms: number) => fmt(ms / 1000, 2);

// ---------------------------------------------------------------------------------------------
// The phases.

/** Start-up: Relearn bootstraps every task (the 1M first training is the longest); time to /readyz 200. */
async function startUp(s: Settings, tmp: string, started: Partial<Bench>): Promise<Bench> {
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  progress('starting PostgreSQL (durable: fsync on)');
  const pg = (started.pg = await startBenchPostgres(DB_NAME));
  const postgres = await pg.describe(['fsync', 'synchronous_commit']);
  log(`database: ${postgres.version}, fsync=${postgres.fsync}, synchronous_commit=${postgres.synchronous_commit}, data on ${postgres.filesystem}`);

  progress('starting Relearn (bootstraps fraud, spam, fraud100k, fraud1m: the 1M first training takes a while)');
  if (s.cpuProf) {
    rmSync(CPU_PROF_DIR, { recursive: true, force: true });
    mkdirSync(CPU_PROF_DIR, { recursive: true });
  }
  const relearn = (started.relearn = await startRelearn(
    // AUTH_MODE=open: the benchmark measures serving and training, not API keys (a real DATABASE_URL defaults to keys).
    { DATABASE_URL: pg.url, DATA_DIR: dataDir, TRAINER: 'in-process', ADMIN_TOKEN, AUTH_MODE: 'open', TASKS: TASK_FILES.join(',') },
    join(tmp, 'relearn.log'),
    s.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, '--cpu-prof-interval=1000'] : [],
  ));
  const ready = await waitReady(relearn, 30 * 60_000);
  const bootstraps = (
    await pg.db.query<{ model: string; ms: number; state: string }>(
      `select model, duration_ms as ms, state from training_run where reason like 'bootstrap%' order by id`,
    )
  ).rows;
  progress(`ready after ${sec(ready.readyMs)} s (${bootstraps.map((b) => `${b.model} ${sec(b.ms)} s`).join(', ')})`);
  const watcher = (started.watcher = new StatusWatcher(
    relearn.port,
    SIZES.map((size) => size.model),
    `Bearer ${ADMIN_TOKEN}`,
  ));
  await sleep(500);
  await pg.timeWalSyncs();
  return { settings: s, machine: started.machine!, pg, postgres, relearn, watcher, ready, bootstraps };
}

/** Retrain steps: per round and size, new labelled feedback then triggerRetrain, each step timed. */
async function retrainRounds(bench: Bench, seeds: { next: number }): Promise<RetrainTiming[]> {
  const { rounds, feedbackPerRetrain } = bench.settings;
  const timings: RetrainTiming[] = [];
  for (let r = 1; r <= rounds; r++) {
    for (const size of SIZES) {
      progress(`round ${r}/${rounds} ${size.label}: ${feedbackPerRetrain} predictions + truthful feedback, then triggerRetrain`);
      const fbSeconds = await sendFeedback(bench.relearn.base, size.model, feedbackPerRetrain, seeds.next++);
      await sleep(1000);
      const t = await retrain(bench.relearn, bench.watcher, size.model, r, 'steps', fbSeconds);
      if (!t) continue;
      timings.push(t);
      progress(
        `  ${t.state} v${t.version} in ${sec(t.endToEndMs)} s (queue ${sec(t.queueMs)} s): ` +
          Object.entries(t.steps)
            .map(([k, v]) => `${k} ${sec(v)}`)
            .join(', '),
      );
    }
  }
  return timings;
}

interface LoadRound {
  round: number;
  idle: LatencyRun;
  during: LatencyRun;
  retrain: RetrainTiming | null;
}

/** Predict p99 idle, then while a 1M retrain runs (only requests due between its first non-QUEUED and final push). */
async function loadRounds(bench: Bench, idleSeconds: number, seeds: { next: number }): Promise<LoadRound[]> {
  const { loadRounds: n, settleSeconds, rate, feedbackPerRetrain } = bench.settings;
  const runs: LoadRound[] = [];
  for (let r = 1; r <= n; r++) {
    progress(`load round ${r}/${n}: ${settleSeconds} s pause, then idle open loop ${rate}/s for ${idleSeconds} s`);
    await sleep(settleSeconds * 1000);
    const idle = await idleRun(bench, `idle open loop round ${r}`, idleSeconds);
    progress(`load round ${r}/${n}: ${feedbackPerRetrain} feedback on fraud1m, then open loop ${rate}/s while the 1M retrain runs`);
    const fbSeconds = await sendFeedback(bench.relearn.base, 'fraud1m', feedbackPerRetrain, seeds.next++);
    let t: RetrainTiming | null = null;
    const during = await measured(bench, async () => {
      const loop = openLoop(bench.relearn.port, rate, `during-retrain open loop round ${r}`);
      await sleep(1000);
      t = await retrain(bench.relearn, bench.watcher, 'fraud1m', r, 'under-load', fbSeconds);
      loop.stop();
      const run = await loop.done;
      const w = t?.window;
      return { ms: w ? run.samples.filter((x) => x.due >= w[0] && x.due <= w[1]).map((x) => x.ms) : [], seconds: t ? t.endToEndMs / 1000 : NaN };
    });
    runs.push({ round: r, idle, during, retrain: t });
    progress(`  idle p99 ${fmt(idle.p99, 1)} ms, during retrain p99 ${fmt(during.p99, 1)} ms (${fmt(during.p99 / idle.p99, 2)}x)`);
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const s = settings();
  if (!s) return 0;
  const machine = machineInfo();
  log(`Relearn retraining benchmark  ${new Date().toISOString()}${s.quick ? '  (--quick: 1 round, indicative only)' : ''}`);
  log(machineLine(machine));
  log(`setup: Relearn child (node --import tsx server/src/main.ts), TRAINER=in-process, local blob store, embedded registry,`);
  log(
    `       tasks fraud + spam (built in) + ${TASK_FILES.map((f) => relative(ROOT, f)).join(', ')}; this process (load, feedback, ws client) shares the cores`,
  );
  const tmp = mkdtempSync(join(os.tmpdir(), 'relearn-bench-train-'));
  const started: Partial<Bench> = { machine };
  let keepTmp = false;
  try {
    const bench = await startUp(s, tmp, started);
    progress(`warm-up open loop ${s.rate}/s 3 s, then a ${s.baselineSeconds} s idle open loop before any retrain (reference)`);
    await openLoop(bench.relearn.port, s.rate, 'warm-up open loop', 3).done;
    const baseline = await idleRun(bench, 'baseline idle open loop', s.baselineSeconds);
    progress(`  idle before any retrain: p50 ${fmt(baseline.p50, 2)} ms, p99 ${fmt(baseline.p99, 2)} ms`);
    const seeds = { next: 1000 };
    const timings = await retrainRounds(bench, seeds);
    const m1 = timings.filter((t) => t.model === 'fraud1m');
    const idleSeconds = Math.max(5, Math.round(median(m1.map((t) => t.endToEndMs)) / 1000)) || 20;
    const load = await loadRounds(bench, idleSeconds, seeds);
    for (const l of load) if (l.retrain) timings.push(l.retrain);
    const datasets = (
      await bench.pg.db.query<{ model: string; version: number; rows: string }>(
        `select model, version, manifest->>'rowCount' as rows from dataset_version where model like 'fraud%' order by model, version`,
      )
    ).rows;
    progress('stopping Relearn');
    await bench.watcher.dispose();
    started.watcher = undefined;
    const exitCode = await bench.relearn.stop();
    return report(bench, { baseline, timings, load, idleSeconds, datasets, exitCode });
  } catch (error) {
    keepTmp = true;
    if (started.relearn) {
      console.error(`Relearn log (kept): ${started.relearn.logFile}`);
      try {
        console.error(readFileSync(started.relearn.logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n'));
      } catch {
        /* no log */
      }
    }
    throw error;
  } finally {
    progress('stopping Relearn and PostgreSQL');
    if (started.watcher) await started.watcher.dispose();
    await started.relearn?.stop().catch(() => undefined);
    await started.pg?.stop();
    if (!keepTmp) rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The report: tables on stdout, everything in bench/results/train-latest.json. Returns the exit code.

function report(
  bench: Bench,
  m: {
    baseline: LatencyRun;
    timings: RetrainTiming[];
    load: LoadRound[];
    idleSeconds: number;
    datasets: { model: string; version: number; rows: string }[];
    exitCode: number | null;
  },
): number {
  const { settings: s, relearn, ready, bootstraps, machine, postgres } = bench;
  const { quick, rounds, loadRounds, rate, feedbackPerRetrain, settleSeconds, baselineSeconds } = s;
  const { baseline, timings, load: loadRuns, datasets, exitCode, idleSeconds } = m;
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
  const subscriptionErrors = bench.watcher.errors;
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
  log(`\nresults: ${out}${ok ? '' : '  (FAILED: errors)'}${s.cpuProf ? `; CPU profiles in ${relative(process.cwd(), CPU_PROF_DIR)}` : ''}`);
  return ok ? 0 : 1;
}

runBenchmark(main, {});
