// metricsHistory benchmark (`npm run bench:history`; `--predictions N`, `--rounds R`).
//
// A private, durable PostgreSQL holds a year of one model's traffic (2,000,000 predictions by
// default, 30% labelled, 2% audited), written straight into the tables. metricsHistory is then
// asked for the last hour, day, 30 days and year, each read raw (every prediction, as before the
// rollup) and from the hourly rollup (what the API serves), and the medians are printed side by
// side. The first rollup build (a year, a week per transaction) is timed on its own, and so is a
// refresh after late feedback on 1,000 old predictions.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchPostgres } from './lib/postgres.js';
import { fmt, median, progress, table, writeResults } from './lib/report.js';

const { values: args } = parseArgs({
  options: { predictions: { type: 'string', default: '2000000' }, rounds: { type: 'string', default: '3' } },
});
const PREDICTIONS = Number(args.predictions);
const ROUNDS = Number(args.rounds);

async function main() {
  const pg = await startBenchPostgres('relearn_bench_history');
  const dataDir = mkdtempSync(join(os.tmpdir(), 'relearn-bench-history-'));
  const { buildApp } = await import('../server/src/app.js');
  const { loadConfig } = await import('../server/src/config.js');
  const app = await buildApp(
    loadConfig({
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: pg.url,
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      LOG_LEVEL: 'error',
      LOG_PRETTY: 'false',
      AUTO_RETRAIN: 'off',
    }),
  );
  try {
    await app.modelsReady;
    const live = app.services.models.getLive('fraud')!;
    progress(`seeding ${fmt(PREDICTIONS)} predictions over a year`);
    let t = performance.now();
    // In chunks of 200,000: one statement per chunk keeps the memory of each insert bounded.
    for (let done = 0; done < PREDICTIONS; done += 200_000) {
      await pg.db.query(
        `insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms, created_at, feedback_requested)
         select gen_random_uuid(), 'fraud', $1, '{}'::jsonb, case when random() < 0.1 then 'fraud' else 'legit' end,
                0.5 + random() * 0.5, '[]'::jsonb, 1, now() - random() * interval '365 days', random() < 0.02
         from generate_series(1, $2)`,
        [live.versionId, Math.min(200_000, PREDICTIONS - done)],
      );
    }
    await pg.db.query(
      `insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, created_at)
       select p.model, p.id, p.model_version_id, p.label, case when r < 0.9 then p.label when p.label = 'fraud' then 'legit' else 'fraud' end, r < 0.9,
              p.created_at + random() * interval '2 days'
       from (select *, random() as r from prediction where model = 'fraud' and random() < 0.3) p`,
    );
    await pg.db.query('vacuum analyze prediction');
    await pg.db.query('vacuum analyze feedback');
    progress(`seeded in ${fmt((performance.now() - t) / 1000, 1)} s`);

    const history = (from: Date, to: Date, bucketSeconds: number, source: 'raw' | 'rollup') =>
      app.services.metrics.history('fraud', { from, to, bucketSeconds, modelVersionId: null, axis: 'prediction', source });

    t = performance.now();
    const now = new Date();
    // The whole build at once (a history request rolls at most a month of it).
    await app.services.metrics.catchUpHistory('fraud');
    await history(new Date(now.getTime() - 365 * 86_400_000), now, 604_800, 'rollup');
    const buildSeconds = (performance.now() - t) / 1000;
    const rollupRows = Number((await pg.db.query<{ n: string }>(`select count(*) as n from history_rollup`)).rows[0]!.n);
    progress(`first rollup build: ${fmt(buildSeconds, 1)} s, ${fmt(rollupRows)} rollup rows`);

    const ranges = [
      { name: 'last hour (60 × 1 min)', seconds: 3600, bucket: 60 },
      { name: 'last day (96 × 15 min)', seconds: 86_400, bucket: 900 },
      { name: 'last 30 days (30 × 1 day)', seconds: 30 * 86_400, bucket: 86_400 },
      { name: 'last year (53 × 1 week)', seconds: 365 * 86_400, bucket: 604_800 },
    ];
    const results: { range: string; predictions: number; rawMs: number; rollupMs: number; same: boolean }[] = [];
    for (const r of ranges) {
      const times = { raw: [] as number[], rollup: [] as number[] };
      let same = true;
      let predictions = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const to = new Date();
        const from = new Date(to.getTime() - r.seconds * 1000);
        const out: Record<string, string> = {};
        for (const source of ['raw', 'rollup'] as const) {
          const start = performance.now();
          const buckets = await history(from, to, r.bucket, source);
          times[source].push(performance.now() - start);
          predictions = buckets.reduce((s, b) => s + b.predictionCount, 0);
          out[source] = JSON.stringify(buckets.map((b) => [b.predictionCount, b.feedbackCount, b.accuracy?.toPrecision(9)]));
        }
        same &&= out.raw === out.rollup;
      }
      results.push({ range: r.name, predictions, rawMs: median(times.raw), rollupMs: median(times.rollup), same });
      progress(`${r.name}: raw ${fmt(median(times.raw))} ms, rollup ${fmt(median(times.rollup))} ms`);
    }

    // Late feedback on 1,000 predictions spread over the year: the next read recomputes their hours.
    await pg.db.query(
      `insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct)
       select p.model, p.id, p.model_version_id, p.label, p.label, true
       from prediction p where p.model = 'fraud' and not exists (select 1 from feedback f where f.prediction_id = p.id) limit 1000`,
    );
    const dirty = Number((await pg.db.query<{ n: string }>(`select count(*) as n from history_rollup_dirty`)).rows[0]!.n);
    t = performance.now();
    await app.services.metrics.history('fraud', {
      from: new Date(Date.now() - 365 * 86_400_000),
      to: new Date(),
      bucketSeconds: 604_800,
      modelVersionId: null,
      axis: 'prediction',
    });
    const lateMs = performance.now() - t;

    console.log(`\nmetricsHistory on ${fmt(PREDICTIONS)} predictions over a year (30% labelled), median of ${ROUNDS}:\n`);
    console.log(
      table([
        ['range', 'predictions', 'raw (ms)', 'rollup (ms)', 'same numbers'],
        ...results.map((r) => [r.range, fmt(r.predictions), fmt(r.rawMs), fmt(r.rollupMs), r.same ? 'yes' : 'NO']),
      ]),
    );
    console.log(
      `\nfirst rollup build: ${fmt(buildSeconds, 1)} s (${fmt(rollupRows)} rows); after late feedback touching ${fmt(dirty)} hours, the year read again: ${fmt(lateMs)} ms`,
    );
    const file = writeResults('history-latest.json', {
      predictions: PREDICTIONS,
      rounds: ROUNDS,
      buildSeconds,
      rollupRows,
      results,
      lateFeedback: { dirtyHours: dirty, yearMs: lateMs },
    });
    console.log(`results: ${file}`);
  } finally {
    await app.stop();
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
