import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { ModelService } from '../models/model-service.js';
import { GroupCommit } from '../shared/group-commit.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { TaskInput } from '../tasks/task.js';
import type { ClassScore } from './prediction.entity.js';
import type { ServingMetrics } from '../metrics/prometheus.js';

/** A served prediction as the API returns it. */
export interface PredictionRecord {
  id: string;
  model: string;
  modelVersionId: number;
  version: number;
  input: TaskInput;
  label: string;
  probability: number;
  scores: ClassScore[];
  latencyMs: number;
  createdAt: Date;
}

export class ModelNotReadyError extends Error {
  override name = 'ModelNotReadyError';
}

export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
}

/** Bounds of the recent-prediction cache: whichever is reached first evicts the oldest. */
export interface RecentPredictionLimits {
  maxCount: number;
  /** Estimated heap bytes of the cached records (a long non-Latin-1 text costs 2 bytes a character). */
  maxBytes: number;
}

export const DEFAULT_RECENT_PREDICTIONS: RecentPredictionLimits = { maxCount: 10_000, maxBytes: 64 * 1024 * 1024 };

/** Fixed cost of one cached record besides its strings (object, scores, map entry), rounded up. */
const RECORD_OVERHEAD_BYTES = 1024;

/** An upper estimate of a record's heap size: strings at 2 bytes per UTF-16 unit, plus overhead. */
export function estimatedRecordBytes(record: PredictionRecord): number {
  let chars = record.id.length + record.model.length + record.label.length;
  for (const v of Object.values(record.input)) if (typeof v === 'string') chars += v.length;
  for (const s of record.scores) chars += s.label.length;
  return RECORD_OVERHEAD_BYTES + 2 * chars;
}

/**
 * Bounded map of recent predictions: feedback usually follows its prediction within seconds.
 * A ring of ids, oldest first, evicts in O(1) (a Map's first key gets slow once the map is full).
 */
export class RecentPredictions {
  private readonly map = new Map<string, PredictionRecord>();
  private readonly ring: ({ id: string; bytes: number } | undefined)[];
  private head = 0; // oldest
  private size = 0;
  private total = 0;

  constructor(private readonly limits: RecentPredictionLimits) {
    this.ring = new Array(limits.maxCount);
  }

  get(id: string) {
    return this.map.get(id);
  }

  get count(): number {
    return this.size;
  }

  get bytes(): number {
    return this.total;
  }

  set(record: PredictionRecord) {
    const bytes = estimatedRecordBytes(record);
    if (bytes > this.limits.maxBytes || this.ring.length === 0) return; // would evict everything else: read it back instead
    while (this.size > 0 && (this.size === this.ring.length || this.total + bytes > this.limits.maxBytes)) this.evictOldest();
    this.ring[(this.head + this.size) % this.ring.length] = { id: record.id, bytes };
    this.size++;
    this.total += bytes;
    this.map.set(record.id, record);
  }

  private evictOldest() {
    const oldest = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    this.total -= oldest.bytes;
    this.map.delete(oldest.id);
  }
}

export class PredictionService {
  private readonly writer: GroupCommit<PredictionRecord, void>;
  private readonly recent: RecentPredictions;

  constructor(
    private readonly orm: Orm,
    private readonly tasks: TaskRegistry,
    private readonly models: ModelService,
    private readonly metrics: ServingMetrics,
    recentLimits: RecentPredictionLimits = DEFAULT_RECENT_PREDICTIONS,
  ) {
    this.writer = new GroupCommit((rows) => this.insert(rows), { maxBatch: 1000, concurrency: 2 });
    this.recent = new RecentPredictions(recentLimits);
  }

  /** Validates, predicts with the live model, stores the prediction, and only then returns it. */
  async predict(model: string, rawInput: unknown): Promise<PredictionRecord> {
    const started = performance.now();
    const record = this.score(model, rawInput);
    await this.writer.submit(record);
    this.recent.set(record);
    this.metrics.predictionServed(record);
    this.metrics.predictRequestServed(model, (performance.now() - started) / 1000);
    return record;
  }

  async predictBatch(inputs: { model: string; input: unknown }[]): Promise<PredictionRecord[]> {
    const started = performance.now();
    const records = inputs.map((i) => this.score(i.model, i.input));
    await this.writer.submitMany(records);
    const seconds = (performance.now() - started) / 1000;
    for (const r of records) {
      this.recent.set(r);
      this.metrics.predictionServed(r);
    }
    // The latency histogram counts requests: one observation of this request's duration per
    // model it served (a batch of 20 is one observation, not 20 copies of the batch's time).
    for (const model of new Set(records.map((r) => r.model))) this.metrics.predictRequestServed(model, seconds);
    return records;
  }

  async get(id: string): Promise<PredictionRecord | null> {
    const cached = this.recent.get(id);
    if (cached) return cached;
    const { rows } = await sql<{
      id: string; model: string; model_version_id: number; version: number; input: TaskInput; label: string;
      probability: number; scores: ClassScore[]; latency_ms: number; created_at: Date;
    }>`select p.id, p.model, p.model_version_id, v.version, p.input, p.label, p.probability, p.scores, p.latency_ms, p.created_at
       from prediction p join model_version v on v.id = p.model_version_id where p.id = ${id}`.execute(this.orm.em.getKysely());
    const r = rows[0];
    if (!r) return null;
    return {
      id: r.id, model: r.model, modelVersionId: r.model_version_id, version: r.version, input: r.input, label: r.label,
      probability: r.probability, scores: r.scores, latencyMs: r.latency_ms, createdAt: new Date(r.created_at),
    };
  }

  /** Waits until every prediction accepted so far is committed (graceful shutdown). */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  private score(model: string, rawInput: unknown): PredictionRecord {
    const started = performance.now();
    const task = this.tasks.get(model);
    if (!task) throw new UnknownModelError(`unknown model "${model}"; known: ${this.tasks.names().join(', ')}`);
    const input = task.validate(rawInput);
    const live = this.models.getLive(model);
    if (!live) throw new ModelNotReadyError(`model ${model} has no live version yet; it is still training`);
    const p = live.model.predict(task.encode(input));
    return {
      id: randomUUID(),
      model,
      modelVersionId: live.versionId,
      version: live.version,
      input,
      label: p.label,
      probability: p.probability,
      scores: p.scores,
      latencyMs: performance.now() - started,
      createdAt: new Date(),
    };
  }

  /** One INSERT for the whole batch: unnest keeps the statement text constant whatever the batch size. */
  private async insert(rows: PredictionRecord[]): Promise<void[]> {
    await sql`insert into prediction (id, model, model_version_id, input, label, probability, scores, latency_ms, created_at)
      select * from unnest(
        ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.model)}::text[], ${rows.map((r) => r.modelVersionId)}::int[],
        ${rows.map((r) => JSON.stringify(r.input))}::jsonb[], ${rows.map((r) => r.label)}::text[],
        ${rows.map((r) => r.probability)}::float8[], ${rows.map((r) => JSON.stringify(r.scores))}::jsonb[],
        ${rows.map((r) => r.latencyMs)}::float8[], ${rows.map((r) => r.createdAt.toISOString())}::timestamptz[])`.execute(
      this.orm.em.getKysely(),
    );
    return rows.map(() => undefined);
  }
}
