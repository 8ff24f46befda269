// Retraining at millions of rows (issue 15): N labelled feedback rows generated in PostgreSQL with
// generate_series, then side by side, for each size: a plain COPY of the same rows out of
// PostgreSQL (psql \copy to /dev/null), the retrain end to end (trigger to decision: the streamed
// read, the dataset's chunk files, the fit, the gate, the registry) and its ratio to the COPY, the
// Relearn process's RSS growth during the retrain, and the predict p99 at a fixed rate while idle
// and while the retrain runs.
//
//   npm run bench:train10m -- --rows 1000000,3000000 [--rate 100]
//
// Sizes are cumulative: each adds the rows it lacks, and each retrain reads its parent dataset (the
// previous retrain's, from the blob store) plus the new feedback from PostgreSQL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLoop } from './lib/load.js';
import { machineInfo, machineLine } from './lib/machine.js';
import { startBenchPostgres } from './lib/postgres.js';
import { startRelearn, waitReady } from './lib/relearn-process.js';
import { BENCH_DIR, fmt, log, pct, progress, table, writeResults } from './lib/report.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, rate: { type: 'string', default: '100' }, help: { type: 'boolean', default: false } },
});
if (args.help) {
  console.log('tsx bench/train-10m.ts [--rows 1000000,3000000] [--rate 100]');
  process.exit(0);
}
const SIZES = args.rows!.split(',').map(Number);
const RATE = Number(args.rate);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const MODEL = 'fraudstream';
const IDLE_SECONDS = 10;

const pg = await startBenchPostgres('relearn_train10m');
const dataDir = mkdtempSync(join(os.tmpdir(), 'relearn-train10m-'));
const relearn = await startRelearn(
  {
    DATABASE_URL: pg.url,
    DATA_DIR: dataDir,
    TRAINER: 'in-process',
    ADMIN_TOKEN,
    AUTH_MODE: 'open',
    RATE_LIMITS: 'off',
    AUTO_RETRAIN: 'off',
    TASKS: join(BENCH_DIR, 'tasks', 'fraudstream.json'),
  },
  join(dataDir, 'relearn.log'),
);
const rssMB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${relearn.proc.pid}/status`, 'utf8'))![1]) / 1024;

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${relearn.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as { data?: any; errors?: unknown[] };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data;
}

/** Adds feedback rows (with their predictions) until the model has `total`, in statements of 1M. */
async function generate(total: number) {
  const have = Number((await pg.db.query<{ n: string }>(`select count(*) as n from feedback where model = $1`, [MODEL])).rows[0]!.n);
  const version = (await pg.db.query<{ id: number }>(`select id from model_version where model = $1 and status = 'LIVE'`, [MODEL])).rows[0]!.id;
  for (let from = have; from < total; from += 1_000_000) {
    const n = Math.min(1_000_000, total - from);
    const t0 = performance.now();
    await pg.db.query(
      `with p as (
         insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms)
         select gen_random_uuid(), $1, $2, jsonb_build_object(
             'amount', round((1 + random() * (case when g % 10 = 0 then 2000 else 150 end))::numeric, 2),
             'hour', g % 24, 'dayOfWeek', g % 7,
             'merchantCategory', (array['grocery','electronics','travel','jewelry','restaurant','fuel'])[1 + g % 6],
             'previousAmount', round((1 + random() * 150)::numeric, 2), 'timeSinceLast', round((random() * 72)::numeric, 2)),
           'legit', 0.9, '[]'::jsonb, 1
         from generate_series($3::bigint, $4::bigint) g
         returning id, model_version_id, input)
       insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, source)
       select $1, p.id, p.model_version_id, 'legit', a.actual, a.actual = 'legit', 'bench'
       from p, lateral (select case when (p.input->>'amount')::float > 900 and (p.input->>'hour')::int < 6 then 'fraud' else 'legit' end as actual) a`,
      [MODEL, version, from + 1, from + n],
    );
    progress(`generated ${fmt(from + n)} feedback rows (${fmt((performance.now() - t0) / 1000, 1)} s for ${fmt(n)})`);
  }
  await pg.db.query('vacuum analyze feedback');
  await pg.db.query('vacuum analyze prediction');
}

/** psql's \copy of the rows a retrain reads (id, label, input) into /dev/null: the floor of reading them out. */
function copyMs(): number {
  const psql = spawnSync('ls', ['/usr/lib/postgresql'], { encoding: 'utf8' }).stdout.trim().split('\n').sort().at(-1);
  const t0 = performance.now();
  const r = spawnSync(
    `/usr/lib/postgresql/${psql}/bin/psql`,
    [
      pg.url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy (select f.id, f.actual, p.input from feedback f left join prediction p on p.id = f.prediction_id where f.model = '${MODEL}' order by f.id) to '/dev/null'`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`psql \\copy failed: ${r.stderr}`);
  return performance.now() - t0;
}

const PREDICT = JSON.stringify({
  query: 'mutation($i: PredictInput!) { predict(input: $i) { id label } }',
  variables: { i: { fraud: { amount: 42.5, hour: 14, dayOfWeek: 3, merchantCategory: 'grocery', previousAmount: 40, timeSinceLast: 20 } } },
});

function startLoad(seconds: number) {
  let errors = 0;
  const loop = openLoop({
    port: relearn.port,
    rate: RATE,
    seconds,
    bodies: [PREDICT],
    maxSockets: 64,
    timeoutMs: 10_000,
    onAnswer: (status, text) => void (status !== 200 || text.includes('"errors"') ? errors++ : 0),
    onError: () => void errors++,
  });
  return {
    stop: () => loop.stop(),
    done: loop.done.then(({ samples }) => ({
      p50: pct(
        samples.map((s) => s.fromDue),
        0.5,
      ),
      p99: pct(
        samples.map((s) => s.fromDue),
        0.99,
      ),
      n: samples.length,
      errors,
    })),
  };
}

async function retrain() {
  const before = rssMB();
  let peak = before;
  const t0 = performance.now();
  const { triggerRetrain } = await gql(`mutation { triggerRetrain(model: "${MODEL}", reason: "bench:train10m") { id } }`);
  const load = startLoad(Infinity);
  let job: { state: string; version: number | null; error?: string | null } | undefined;
  for (;;) {
    peak = Math.max(peak, rssMB());
    job = (await gql(`{ retrainJobs(model: "${MODEL}") { id state version } }`)).retrainJobs.find((j: any) => j.id === triggerRetrain.id);
    if (job && /PROMOTED|REJECTED|FAILED/.test(job.state)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const ms = performance.now() - t0;
  load.stop();
  return { ms, state: job!.state, rssBeforeMB: before, rssPeakMB: peak, during: await load.done };
}

const results: Record<string, unknown>[] = [];
try {
  await waitReady(relearn, 300_000);
  log(`bench:train10m — ${machineLine(machineInfo())}; PostgreSQL (fsync on) and Relearn (TRAINER=in-process) on this machine; predict open loop at ${RATE}/s`);
  for (const size of SIZES) {
    await generate(size);
    const copy = [copyMs(), copyMs()].sort((a, b) => a - b)[0]!;
    progress(`COPY of ${fmt(size)} rows: ${fmt(copy)} ms`);
    const idle = await startLoad(IDLE_SECONDS).done;
    progress(`idle predict p99 ${fmt(idle.p99, 1)} ms`);
    const r = await retrain();
    progress(`retrain of ${fmt(size)} rows: ${r.state} in ${fmt(r.ms)} ms`);
    const dataset = (
      await pg.db.query<{ manifest: { rowCount: number }; location: string }>(
        `select manifest, location from dataset_version where model = $1 order by version desc limit 1`,
        [MODEL],
      )
    ).rows[0]!;
    results.push({
      rows: size,
      copyMs: copy,
      retrainMs: r.ms,
      ratio: r.ms / copy,
      state: r.state,
      datasetRows: dataset.manifest.rowCount,
      location: dataset.location,
      rssBeforeMB: r.rssBeforeMB,
      rssPeakMB: r.rssPeakMB,
      idle,
      during: r.during,
    });
  }
  log(
    table([
      [
        'feedback rows',
        'COPY to /dev/null',
        'retrain end to end',
        'ratio',
        'decision',
        'dataset rows',
        'RSS before → peak',
        'predict p99 idle',
        'p99 retraining',
        'ratio',
        'errors',
      ],
      ...results.map((r: any) => [
        fmt(r.rows),
        `${fmt(r.copyMs / 1000, 1)} s`,
        `${fmt(r.retrainMs / 1000, 1)} s`,
        `${fmt(r.ratio, 2)}x`,
        r.state,
        fmt(r.datasetRows),
        `${fmt(r.rssBeforeMB)} → ${fmt(r.rssPeakMB)} MB`,
        `${fmt(r.idle.p99, 1)} ms`,
        `${fmt(r.during.p99, 1)} ms`,
        `${fmt(r.during.p99 / r.idle.p99, 2)}x`,
        String(r.idle.errors + r.during.errors),
      ]),
    ]),
  );
  log(`results: ${writeResults('train-10m-latest.json', { rate: RATE, results })}`);
} finally {
  await relearn.stop();
  await pg.stop();
}
