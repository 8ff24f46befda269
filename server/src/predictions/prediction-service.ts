import type { DomainEvents } from '../events/domain-events.js';
import type { ModelService } from '../models/model-service.js';
import { GroupCommit } from '../shared/group-commit.js';
import { isUuid } from '../shared/uuid.js';
import { uuidv7 } from '../shared/uuid-v7.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { PredictionRepository } from './prediction.repository.js';
import type { PredictionRecord } from './prediction.types.js';
import { AppError } from '../shared/app-error.js';
import { ANONYMOUS_SOURCE } from '../feedback/feedback.types.js';

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
  /** Lookups of predictions the recent cache no longer holds (see get). */
  private readonly reader: GroupCommit<string, PredictionRecord | null>;
  private readonly recent: RecentPredictions;

  constructor(
    private readonly repository: PredictionRepository,
    private readonly tasks: TaskRegistry,
    private readonly models: ModelService,
    /** Told of each request served (Prometheus follows it). */
    private readonly events: DomainEvents,
    recentLimits: RecentPredictionLimits = DEFAULT_RECENT_PREDICTIONS,
    /** Share of predictions answered with feedbackRequested (AUDIT_SAMPLE_RATE), unless the task sets its own. */
    private readonly auditSampleRate = 0,
  ) {
    this.writer = new GroupCommit((rows) => this.insert(rows), { maxBatch: 1000, concurrency: 2 });
    this.recent = new RecentPredictions(recentLimits);
    // Reads batched like the writes: lookups that arrive while one is in flight are read
    // together in the next statement, so feedback on predictions older than the cache costs a
    // round trip per batch, not one per feedback. A failed read is never about one id.
    this.reader = new GroupCommit((ids) => this.repository.getMany(ids), { maxBatch: 1000, concurrency: 2, isRowError: () => false });
  }

  /**
   * Validates, predicts with the live model, stores the prediction, and only then returns it.
   * `source`: who asks (the principal's name, 'anonymous' without one), stored with the row.
   */
  async predict(model: string, rawInput: unknown, source: string = ANONYMOUS_SOURCE): Promise<PredictionRecord> {
    const started = performance.now();
    const record = this.score(model, rawInput, source);
    await this.writer.submit(record);
    this.recent.set(record);
    this.events.emit('predictionsServed', { predictions: [record], seconds: (performance.now() - started) / 1000 });
    return record;
  }

  async predictBatch(inputs: { model: string; input: unknown }[], source: string = ANONYMOUS_SOURCE): Promise<PredictionRecord[]> {
    const started = performance.now();
    const records = inputs.map((i) => this.score(i.model, i.input, source));
    await this.writer.submitMany(records);
    const seconds = (performance.now() - started) / 1000;
    for (const r of records) this.recent.set(r);
    this.events.emit('predictionsServed', { predictions: records, seconds });
    return records;
  }

  /** The prediction with this id; null when there is none (or `id` is no UUID, so none can be). */
  async get(id: string): Promise<PredictionRecord | null> {
    if (!isUuid(id)) return null;
    return this.recent.get(id) ?? this.reader.submit(id);
  }

  /** Waits until every prediction accepted so far is committed (graceful shutdown). */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  private score(model: string, rawInput: unknown, source: string): PredictionRecord {
    const started = performance.now();
    const task = this.tasks.get(model);
    if (!task) throw AppError.badInput([{ field: 'model', reason: `unknown model "${model}"; known: ${this.tasks.names().join(', ')}` }]);
    const input = task.validate(rawInput);
    const live = this.models.getLive(model);
    if (!live) throw new AppError('MODEL_NOT_READY', `model ${model} has no live version yet; it is still training`);
    const p = live.model.predict(live.task.encode(input));
    const createdAt = new Date();
    return {
      // Time-ordered (UUIDv7, the same millisecond as createdAt): `prediction` is range-partitioned by id (database/partitions.ts).
      id: uuidv7(createdAt.getTime()),
      model,
      modelVersionId: live.versionId,
      version: live.version,
      input,
      label: p.label,
      probability: p.probability,
      scores: p.scores,
      latencyMs: performance.now() - started,
      createdAt,
      // The audit sample: drawn here, independently of everything about the prediction, so the
      // accuracy of the requested ones is unbiased. Stored with the row; no extra query.
      feedbackRequested: Math.random() < (task.definition.auditSampleRate ?? this.auditSampleRate),
      source,
    };
  }

  private async insert(rows: PredictionRecord[]): Promise<void[]> {
    await this.repository.insertMany(rows);
    return rows.map(() => undefined);
  }
}
