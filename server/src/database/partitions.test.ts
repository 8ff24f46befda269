import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit-service.js';
import { auditDomainEvents } from '../audit/audit-subscriber.js';
import { loadConfig } from '../config.js';
import { DomainEvents } from '../events/domain-events.js';
import { createEventBus } from '../events/event-bus.js';
import { createLogger } from '../logger.js';
import { PredictionRepository } from '../predictions/prediction.repository.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import { uuidv7, uuidv7Bound } from '../shared/uuid-v7.js';
import type { DatabaseServer } from './database-server.types.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { initORM, type Orm } from './orm.js';
import { partitionName, PartitionMaintenance } from './partitions.js';
import { DEFAULT_PARTITION, PartitionRepository } from './partitions.repository.js';

const logger = createLogger(loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LOG_PRETTY: 'false' }));
const MINUTE = 60_000;
/** A whole minute (spans are aligned to the epoch), some hours ago so that "now" is never near it. */
const T0 = Math.floor((Date.now() - 5 * 3_600_000) / MINUTE) * MINUTE;

describe.each(['postgres', 'embedded'] as const)('prediction partitions on the %s database', (kind) => {
  let orm: Orm;
  let embedded: DatabaseServer | null = null;
  let dir: string | null = null;
  let versionId: number;

  beforeAll(async () => {
    let url: string;
    if (kind === 'postgres') url = await freshDatabaseUrl('partitions');
    else {
      dir = await mkdtemp(join(tmpdir(), 'relearn-partitions-'));
      embedded = await startEmbeddedPostgres(dir, logger);
      url = embedded.url;
    }
    orm = await initORM(url, { poolMax: 4 });
    const { rows } = await sql<{ id: number }>`insert into model_version (model, version, status, artifact, created_at)
      values ('fraud', 1, 'CANDIDATE', '{}'::jsonb, now()) returning id`.execute(orm.em.getKysely());
    versionId = rows[0]!.id;
  });

  afterAll(async () => {
    await orm?.close();
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const db = () => orm.em.getKysely();
  const record = (at: number, id = uuidv7(at)): PredictionRecord => ({
    id,
    model: 'fraud',
    modelVersionId: versionId,
    version: 1,
    input: { amount: 1 },
    label: 'legit',
    probability: 0.9,
    scores: [{ label: 'legit', probability: 0.9 }],
    latencyMs: 0.1,
    createdAt: new Date(at),
    feedbackRequested: false,
  });
  const partitionOf = async (id: string) =>
    (await sql<{ p: string }>`select tableoid::regclass::text as p from prediction where id = ${id}`.execute(db())).rows[0]?.p ?? null;
  const feedbackOn = async (predictionId: string, extra: { quarantined?: boolean } = {}) =>
    Number(
      (
        await sql<{ id: string }>`insert into feedback (model, prediction_id, model_version_id, predicted, actual, correct, kind, quarantined)
          values ('fraud', ${predictionId}, ${versionId}, 'legit', 'fraud', false, 'feedback', ${extra.quarantined ?? false}) returning id`.execute(db())
      ).rows[0]!.id,
    );
  const linkOf = async (feedbackId: number) =>
    (await sql<{ p: string | null }>`select prediction_id as p from feedback where id = ${feedbackId}`.execute(db())).rows[0]!.p;

  it('creates the current and next spans; inserts across a boundary land in their partitions, beyond them in the default one', async () => {
    let now = T0 + 30_000;
    const sut = new PartitionMaintenance(new PartitionRepository(orm), { spanSeconds: 60, retentionDays: null }, { emit() {} }, logger, () => now);
    expect(await sut.ensure()).toEqual([partitionName(T0), partitionName(T0 + MINUTE), partitionName(T0 + 2 * MINUTE)]);
    expect(await sut.ensure()).toEqual([]); // idempotent: a second process finds them
    const parts = await new PartitionRepository(orm).list();
    expect(parts.find((p) => p.name === partitionName(T0))).toMatchObject({ from: uuidv7Bound(T0), to: uuidv7Bound(T0 + MINUTE) });
    expect(parts.find((p) => p.name === DEFAULT_PARTITION)).toMatchObject({ from: null, to: null });

    const rows = [record(T0 + MINUTE - 1), record(T0 + MINUTE), record(T0 + MINUTE + 1), record(T0 + 10 * MINUTE)];
    await new PredictionRepository(orm).insertMany(rows);
    expect(await Promise.all(rows.map((r) => partitionOf(r.id)))).toEqual([
      partitionName(T0),
      partitionName(T0 + MINUTE),
      partitionName(T0 + MINUTE),
      DEFAULT_PARTITION,
    ]);

    // The stray row (no partition covered its time) moves into its partition when that is created, its feedback link kept.
    const feedback = await feedbackOn(rows[3]!.id);
    now = T0 + 10 * MINUTE;
    expect(await sut.ensure()).toContain(partitionName(T0 + 10 * MINUTE));
    expect(await partitionOf(rows[3]!.id)).toBe(partitionName(T0 + 10 * MINUTE));
    expect(await linkOf(feedback)).toBe(rows[3]!.id);
    // A random (v4) id of before partitioning goes to the default partition, and is found by id like any other.
    const legacy = record(T0, crypto.randomUUID());
    await new PredictionRepository(orm).insertMany([legacy]);
    expect((await new PredictionRepository(orm).get(legacy.id))?.id).toBe(legacy.id);
  });

  it('retention drops whole partitions past the horizon unless feedback still needs them, unlinks their feedback and audits the drop', async () => {
    const span = 60;
    const base = T0 + 100 * MINUTE;
    let now = base;
    const domainEvents = new DomainEvents(logger);
    const audit = new AuditService(new AuditRepository(orm), createEventBus(null), logger);
    auditDomainEvents(domainEvents, audit);
    const retention = 3 / 1440; // three minutes
    const sut = new PartitionMaintenance(new PartitionRepository(orm), { spanSeconds: span, retentionDays: retention }, domainEvents, logger, () => now);
    await sut.ensure();
    const predictions = new PredictionRepository(orm);
    const plain = record(base + 1_000);
    const labelled = record(base + MINUTE + 1_000);
    const quarantined = record(base + 2 * MINUTE + 1_000);
    await predictions.insertMany([plain, labelled, quarantined]);
    const taught = await feedbackOn(labelled.id);
    await feedbackOn(quarantined.id, { quarantined: true });

    now = base + 8 * MINUTE; // every partition above is wholly past the horizon
    const first = await sut.applyRetention();
    expect(first.dropped).toContain(partitionName(base)); // no feedback at all
    // Not yet in any dataset or live version: the next dataset and every replay read its input from the prediction.
    expect(first.kept).toEqual(
      expect.arrayContaining([
        { name: partitionName(base + MINUTE), neededFeedback: 1 },
        { name: partitionName(base + 2 * MINUTE), neededFeedback: 1 },
      ]),
    );
    expect(await partitionOf(labelled.id)).toBe(partitionName(base + MINUTE));

    // A dataset version and the live version have now seen it (their snapshots are taken after its commit).
    await sql`insert into dataset_version (model, version, content_hash, location, manifest, created_at)
      values ('fraud', 1, repeat('a', 64), 'x', jsonb_build_object('feedbackSnapshot', pg_current_snapshot()::text, 'feedbackThrough', 0), now())`.execute(
      db(),
    );
    await sql`update model_version set status = 'LIVE', trained_feedback_snapshot = pg_current_snapshot()::text where id = ${versionId}`.execute(db());
    const second = await sut.applyRetention();
    expect(second.dropped).toContain(partitionName(base + MINUTE));
    // Quarantined and unreviewed: a release would teach it from its input, so its partition stays.
    expect(second.kept).toEqual(expect.arrayContaining([{ name: partitionName(base + 2 * MINUTE), neededFeedback: 1 }]));
    expect(await partitionOf(labelled.id)).toBeNull();
    expect(await linkOf(taught)).toBeNull(); // the feedback row stays (metrics, audit), unlinked
    await audit.drain();
    const { rows: entries } = await sql<{ details: Record<string, unknown> }>`
      select details from audit_entry where kind = 'predictions.partition-dropped' order by id`.execute(db());
    const entry = (name: string) => entries.find((e) => e.details.partition === name)?.details;
    expect(entry(partitionName(base))).toMatchObject({ rows: 1, unlinkedFeedback: 0, retentionDays: retention });
    expect(entry(partitionName(base + MINUTE))).toMatchObject({ rows: 1, unlinkedFeedback: 1, from: new Date(base + MINUTE).toISOString() });
    expect(Number(entry(partitionName(base + MINUTE))!.bytes)).toBeGreaterThan(0);
    expect(entry(partitionName(base + 2 * MINUTE))).toBeUndefined();
    await sql`update model_version set status = 'CANDIDATE' where id = ${versionId}`.execute(db());
  });
});
