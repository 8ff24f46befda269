// npm run bench:partitions [-- --spans 6 --span-seconds 60 --rate 1000 --retention-spans 2]
//
// Issue 15: "A bench writes at a steady rate well past one partition's span and shows disk use and
// insert latency staying flat." On a private durable PostgreSQL (bench/lib/postgres.ts), two
// databases are written at the same steady rate at the same time, by the same process:
//   - partitioned: every migration (prediction range-partitioned by UUIDv7 id), a partition per
//     span (PREDICTION_PARTITION_SECONDS = --span-seconds), retention --retention-spans spans,
//     run by Relearn's own PartitionMaintenance on its timer;
//   - baseline: the same schema without the partitioning migration, no retention (it grows).
// Rows go in through Relearn's own insert (PredictionRepository.insertMany, one statement per
// batch, as the group commit sends them); 5% get feedback a tick later, and every half span a
// "retrain" records a dataset version and the live version's snapshot (so old feedback is held by
// a dataset and its partitions may go). Per span it prints rows written, prediction table+index
// size (pg_total_relation_size over the partitions) and insert p50/p99.
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createDatabase } from '../scripts/services/postgres.js';
import { loadConfig } from '../server/src/config.js';
import { initORM, type Orm } from '../server/src/database/orm.js';
import { PartitionMaintenance } from '../server/src/database/partitions.js';
import { PartitionRepository } from '../server/src/database/partitions.repository.js';
import { createLogger } from '../server/src/logger.js';
import { PredictionRepository } from '../server/src/predictions/prediction.repository.js';
import type { PredictionRecord } from '../server/src/predictions/prediction.types.js';
import { uuidv7 } from '../server/src/shared/uuid-v7.js';
import { machineInfo, machineLine } from './lib/machine.js';
import { startBenchPostgres } from './lib/postgres.js';
import { fmt, log, pct, progress, table, writeResults } from './lib/report.js';

const MIGRATION = 'Migration20261202060000_prediction_partitions';
const TICK_MS = 20;

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '6' },
    'span-seconds': { type: 'string', default: '60' },
    rate: { type: 'string', default: '1000' },
    'retention-spans': { type: 'string', default: '2' },
  },
});
const spans = Number(args.spans);
const spanSeconds = Number(args['span-seconds']);
const rate = Number(args.rate);
const retentionSpans = Number(args['retention-spans']);

interface SpanFigures {
  rows: number;
  latencies: number[];
  bytes: number;
  partitions: number;
}

interface Variant {
  name: string;
  orm: Orm;
  predictions: PredictionRepository;
  versionId: number;
  spans: SpanFigures[];
  written: number;
  pendingFeedback: string[];
  size(): Promise<{ bytes: number; partitions: number }>;
}

async function variant(name: string, url: string, partitioned: boolean): Promise<Variant> {
  const orm = await initORM(url, { poolMax: 4 });
  if (!partitioned) await orm.migrator.down({ migrations: [MIGRATION] });
  const db = orm.em.getKysely();
  const { rows } = await sql<{ id: number }>`insert into model_version (model, version, status, artifact, created_at)
    values ('fraud', 1, 'LIVE', '{}'::jsonb, now()) returning id`.execute(db);
  return {
    name,
    orm,
    predictions: new PredictionRepository(orm),
    versionId: rows[0]!.id,
    spans: Array.from({ length: spans }, () => ({ rows: 0, latencies: [], bytes: 0, partitions: 0 })),
    written: 0,
    pendingFeedback: [],
    async size() {
      const { rows: r } = await sql<{ bytes: string; n: string }>`
        select coalesce(sum(pg_total_relation_size(c.oid)), 0) as bytes, count(*) as n from pg_class c
        where c.oid = 'prediction'::regclass and c.relkind = 'r'
           or c.oid in (select inhrelid from pg_inherits where inhparent = 'prediction'::regclass)`.execute(db);
      return { bytes: Number(r[0]!.bytes), partitions: Number(r[0]!.n) };
    },
  };
}

function record(v: Variant, now: number): PredictionRecord {
  // Relearn's own id (prediction-service.ts); the baseline gets the same, only the table differs.
  return {
    id: uuidv7(now),
    model: 'fraud',
    modelVersionId: v.versionId,
    version: 1,
    input: { amount: Math.round(Math.random() * 1e6) / 100, hour: 3, dayOfWeek: 2, merchantCategory: 'electronics', previousAmount: 12, timeSinceLast: 0.2 },
    label: 'legit',
    probability: 0.97,
    scores: [
      { label: 'legit', probability: 0.97 },
      { label: 'fraud', probability: 0.03 },
    ],
    latencyMs: 0.2,
    createdAt: new Date(now),
    feedbackRequested: false,
  };
}

async function main() {
  const machine = machineInfo();
  const pg = await startBenchPostgres('relearn_bench_partitions');
  const admin = new URL(pg.url);
  admin.pathname = '/postgres';
  const plainUrl = await createDatabase(admin.toString(), 'relearn_bench_plain');
  const logger = createLogger(loadConfig({ LOG_LEVEL: 'warn', LOG_PRETTY: 'false' }));
  const partitioned = await variant('partitioned, retention', pg.url, true);
  const baseline = await variant('baseline (one table, no retention)', plainUrl, false);
  const variants = [partitioned, baseline];
  const maintenance = new PartitionMaintenance(
    new PartitionRepository(partitioned.orm),
    { spanSeconds, retentionDays: (retentionSpans * spanSeconds) / 86_400 },
    { emit: (event, payload) => progress(`${event}: ${JSON.stringify(payload)}`) },
    logger.child({ component: 'partitions' }),
  );
  await maintenance.ensure();
  maintenance.startTimer();
  progress(`writing ${rate}/s to each table for ${spans} spans of ${spanSeconds} s (retention ${retentionSpans} spans)`);

  const start = Date.now();
  const end = start + spans * spanSeconds * 1000;
  let lastRetrain = start;
  let lastSpan = -1;
  const loops = variants.map(async (v) => {
    let due = 0;
    for (let now = Date.now(); now < end; now = Date.now()) {
      const span = Math.min(spans - 1, Math.floor((now - start) / (spanSeconds * 1000)));
      due = Math.min(2000, Math.floor(((now - start) / 1000) * rate) - v.written);
      if (due > 0) {
        const batch = Array.from({ length: due }, () => record(v, now));
        const t = performance.now();
        await v.predictions.insertMany(batch);
        v.spans[span]!.latencies.push(performance.now() - t);
        v.spans[span]!.rows += batch.length;
        v.written += batch.length;
        // Feedback on 5% of them, the next tick: durable, as feedback is.
        const fb = v.pendingFeedback.splice(0);
        if (fb.length) {
          await sql`insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, kind)
            select 'fraud', id, ${v.versionId}, 'legit', 'legit', true, 'feedback' from unnest(${fb}::uuid[]) as id`.execute(v.orm.em.getKysely());
        }
        for (const r of batch) if (Math.random() < 0.05) v.pendingFeedback.push(r.id);
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  });
  const sampler = (async () => {
    while (Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = Date.now();
      const span = Math.min(spans - 1, Math.floor((now - start) / (spanSeconds * 1000)));
      // A "retrain" every half span: a dataset version and the live version see all feedback committed so far.
      if (now - lastRetrain >= (spanSeconds * 1000) / 2) {
        lastRetrain = now;
        for (const v of variants) {
          const db = v.orm.em.getKysely();
          await sql`insert into dataset_version (model, version, content_hash, location, manifest, created_at)
            select 'fraud', coalesce(max(version), 0) + 1, md5(random()::text) || md5(random()::text), 'bench',
                   jsonb_build_object('feedbackSnapshot', pg_current_snapshot()::text, 'feedbackThrough', 0), now() from dataset_version`.execute(db);
          await sql`update model_version set trained_feedback_snapshot = pg_current_snapshot()::text where id = ${v.versionId}`.execute(db);
        }
      }
      for (const v of variants) {
        const size = await v.size();
        v.spans[span]!.bytes = size.bytes;
        v.spans[span]!.partitions = size.partitions;
      }
      if (span !== lastSpan) {
        lastSpan = span;
        progress(
          `span ${span + 1}/${spans}: ${variants.map((v) => `${v.name} ${fmt(v.written)} rows, ${fmt(v.spans[span]!.bytes / 2 ** 20, 1)} MiB`).join('; ')}`,
        );
      }
    }
  })();
  await Promise.all([...loops, sampler]);
  await maintenance.stop();

  const rows: string[][] = [['span', 'variant', 'rows written', 'prediction MiB (table+indexes)', 'partitions', 'insert p50 ms', 'insert p99 ms', 'batches']];
  for (let s = 0; s < spans; s++) {
    for (const v of variants) {
      const f = v.spans[s]!;
      rows.push([
        String(s + 1),
        v.name,
        fmt(f.rows),
        fmt(f.bytes / 2 ** 20, 1),
        String(f.partitions),
        fmt(pct(f.latencies, 0.5), 2),
        fmt(pct(f.latencies, 0.99), 2),
        fmt(f.latencies.length),
      ]);
    }
  }
  log(`\n${machineLine(machine)}`);
  log(
    `PostgreSQL 15, fsync on; ${rate} predictions/s into each table at once, batches every ${TICK_MS} ms; span ${spanSeconds} s, retention ${retentionSpans} spans\n`,
  );
  log(table(rows));
  const file = writeResults('partitions-latest.json', {
    machine,
    settings: { spans, spanSeconds, rate, retentionSpans, tickMs: TICK_MS },
    variants: variants.map((v) => ({
      name: v.name,
      spans: v.spans.map((f) => ({ rows: f.rows, bytes: f.bytes, partitions: f.partitions, p50: pct(f.latencies, 0.5), p99: pct(f.latencies, 0.99) })),
    })),
  });
  log(`\nresults: ${file}`);
  for (const v of variants) await v.orm.close();
  await pg.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
