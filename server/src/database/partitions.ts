import type { DomainEvents } from '../events/domain-events.js';
import type { Logger } from '../logger.js';
import { uuidv7Bound, uuidv7Time } from '../shared/uuid-v7.js';
import { DEFAULT_PARTITION, type PartitionRepository, type PredictionPartition } from './partitions.repository.js';

export interface PartitionSettings {
  /** The time one partition of `prediction` spans (PREDICTION_PARTITION_SECONDS). */
  spanSeconds: number;
  /** Partitions entirely older than this are dropped (PREDICTION_RETENTION_DAYS); null: kept for ever. */
  retentionDays: number | null;
}

/** Spans created ahead of the current one: the timer runs every quarter span, so two spans leave three rounds to spare. */
const SPANS_AHEAD = 2;
/** Rows of the default partition deleted per transaction by retention. */
const PURGE_BATCH = 5_000;
/** How long a drop waits for its moment of ACCESS EXCLUSIVE on `prediction` (inserts queue behind it meanwhile). */
const DROP_LOCK_TIMEOUT_MS = 500;

/** `prediction_p20261202t0500`: the span's start, UTC, to the minute (spans are whole minutes at least). */
export function partitionName(startMs: number): string {
  const d = new Date(startMs).toISOString(); // 2026-12-02T05:00:00.000Z
  return `prediction_p${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}t${d.slice(11, 13)}${d.slice(14, 16)}`;
}

/** The spans [start, end) in ms that cover `fromMs` to `toMs`, cut around the ranges that already exist. */
export function missingSpans(
  existing: readonly { from: number; to: number }[],
  fromMs: number,
  toMs: number,
  spanMs: number,
): { start: number; end: number }[] {
  const sorted = [...existing].sort((a, b) => a.from - b.from);
  const out: { start: number; end: number }[] = [];
  for (let s = Math.floor(fromMs / spanMs) * spanMs; s < toMs; s += spanMs) {
    let start = s;
    let end = s + spanMs;
    for (const r of sorted) {
      if (r.from <= start && r.to > start) start = r.to; // a range covers the start: begin after it
      if (r.from > start && r.from < end) end = r.from; // a range begins inside: stop before it
    }
    if (start < end) out.push({ start, end });
  }
  return out;
}

/**
 * Keeps `prediction` partitioned by time: creates the partitions of the current and the next
 * spans at start-up (before anything is served) and every quarter span after, in every process
 * (serialised by an advisory lock: whoever comes first creates, the others find it), and, with
 * a retention, drops time partitions whose whole span is older than the horizon and no feedback
 * still needs (partitions.repository.ts: NEEDED), and deletes such rows from the default
 * partition. Each drop is audited (`predictions.partition-dropped`). A partition still needed is
 * kept and tried again next round. The DEFAULT partition takes any row no partition covers, so a
 * timer that stalls costs retention, never an insert.
 */
export class PartitionMaintenance {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastPurge = -Infinity;

  constructor(
    private readonly repository: PartitionRepository,
    private readonly settings: PartitionSettings,
    private readonly events: Pick<DomainEvents, 'emit'>,
    private readonly logger: Pick<Logger, 'info' | 'warn'>,
    private readonly clock: () => number = Date.now,
  ) {}

  private get spanMs() {
    return this.settings.spanSeconds * 1000;
  }

  /** Creates what is missing from the current span to the one SPANS_AHEAD spans ahead. */
  async ensure(): Promise<string[]> {
    const now = this.clock();
    const existing = timeRanges(await this.repository.list());
    const created: string[] = [];
    for (const { start, end } of missingSpans(existing, now, now + SPANS_AHEAD * this.spanMs + 1, this.spanMs)) {
      const name = partitionName(start);
      const result = await this.repository.create(name, uuidv7Bound(start), uuidv7Bound(end));
      if (result.created) {
        created.push(name);
        this.logger.info({ partition: name, moved: result.moved }, 'created a prediction partition');
      }
    }
    return created;
  }

  /** Applies the retention (nothing without one): returns the partitions dropped and those kept because feedback needs them. */
  async applyRetention(): Promise<{ dropped: string[]; kept: { name: string; neededFeedback: number }[]; purged: number }> {
    const result = { dropped: [] as string[], kept: [] as { name: string; neededFeedback: number }[], purged: 0 };
    if (this.settings.retentionDays === null) return result;
    const horizon = this.clock() - this.settings.retentionDays * 86_400_000;
    for (const p of await this.repository.list()) {
      if (p.from === null || p.to === null || uuidv7Time(p.to) > horizon) continue;
      const outcome = await this.repository.drop(p.name, p.from, p.to, DROP_LOCK_TIMEOUT_MS);
      if (!outcome.dropped) {
        result.kept.push({ name: p.name, neededFeedback: outcome.neededFeedback });
        this.logger.info({ partition: p.name, neededFeedback: outcome.neededFeedback }, 'kept a prediction partition past retention: feedback still needs it');
        continue;
      }
      result.dropped.push(p.name);
      this.events.emit('predictionPartitionDropped', {
        partition: p.name,
        from: new Date(uuidv7Time(p.from)),
        to: new Date(uuidv7Time(p.to)),
        rows: outcome.rows,
        bytes: outcome.bytes,
        unlinkedFeedback: outcome.unlinkedFeedback,
        retentionDays: this.settings.retentionDays,
      });
    }
    // The default partition (ids from before partitioning, strays): in batches, each its own short
    // transaction; once a span at most, since finding its old rows scans it (it has no time index).
    if (this.clock() - this.lastPurge < this.spanMs) return result;
    this.lastPurge = this.clock();
    for (let n = PURGE_BATCH; n === PURGE_BATCH;) {
      n = await this.repository.purgeDefault(new Date(horizon), PURGE_BATCH);
      result.purged += n;
    }
    if (result.purged > 0) {
      this.events.emit('predictionsPurged', {
        partition: DEFAULT_PARTITION,
        before: new Date(horizon),
        rows: result.purged,
        retentionDays: this.settings.retentionDays,
      });
    }
    return result;
  }

  /** One round: partitions ahead, then retention. Rounds never overlap. */
  run(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.ensure();
        await this.applyRetention();
      } catch (error) {
        // Retried next round; the default partition takes inserts meanwhile.
        this.logger.warn({ err: error }, 'prediction partition maintenance failed; retrying next round');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Runs a round every quarter span (at most every 5 minutes). */
  startTimer(): void {
    if (this.timer) return;
    const every = Math.min(this.spanMs / 4, 300_000);
    this.timer = setInterval(() => void this.run(), every);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}

function timeRanges(partitions: readonly PredictionPartition[]): { from: number; to: number }[] {
  return partitions.filter((p) => p.from !== null && p.to !== null).map((p) => ({ from: uuidv7Time(p.from!), to: uuidv7Time(p.to!) }));
}
