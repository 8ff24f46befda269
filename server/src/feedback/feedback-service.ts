import type { DomainEvents } from '../events/domain-events.js';
import { proportionInterval, type Interval } from '../ml/estimation.js';
import type { ModelService } from '../models/model-service.js';
import type { PredictionService } from '../predictions/prediction-service.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import { GroupCommit } from '../shared/group-commit.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import { isUuid } from '../shared/uuid.js';
import type { Task } from '../tasks/task.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { SourceTrust, TrustGate } from '../trust/trust-gate.js';
import type { FeedbackRepository, NewFeedback } from './feedback.repository.js';
import { inputKey } from './input-key.js';
import { ANONYMOUS_SOURCE, type FeedbackInput, type FeedbackRecord, type OutcomeInput, type Teacher } from './feedback.types.js';
import { AppError } from '../shared/app-error.js';

/** An anonymous caller: the source 'anonymous', trusted only if TRUSTED_SOURCES names it. */
export const ANONYMOUS_TEACHER: Teacher = Object.freeze({ source: ANONYMOUS_SOURCE, trusted: false });

/** What retractFeedback takes back: feedback ids, a source's feedback and/or a time range (at least one). */
export interface RetractionCriteria {
  model?: string | null;
  ids?: readonly string[] | null;
  source?: string | null;
  from?: Date | null;
  to?: Date | null;
  reason: string;
}

/** The bootstrap admin's principal name (access/principal.ts): trusted like every admin. */
const ADMIN_SOURCE = 'admin';

/** One source of a model's feedback, as `feedbackSources` shows it. */
export interface SourceSummary {
  source: string;
  /** Rows that count (not quarantined, not retracted). */
  feedback: number;
  /** Rows waiting in the review queue. */
  quarantined: number;
  /** Share of its labels (quarantined ones included) that agreed with the model's prediction; null without any. */
  agreeing: number | null;
  /** The labels `agreeing` is a share of, and its 95% interval (null without any). */
  labelled: number;
  agreeingInterval: Interval | null;
  trust: SourceTrust;
}

/** Longest review-queue page and reason text a client may ask for. */
export const MAX_QUARANTINE_PAGE = 1000;
const MAX_REASON_LENGTH = 2000;
const MAX_IDS = 10_000;

export class FeedbackService {
  private readonly writer: GroupCommit<NewFeedback, FeedbackRecord | null>;

  constructor(
    private readonly repository: FeedbackRepository,
    private readonly tasks: TaskRegistry,
    private readonly predictions: PredictionService,
    private readonly models: ModelService,
    /** Told what was committed: metrics, Prometheus, triggers and other processes follow it (see app.ts). */
    private readonly events: DomainEvents,
    /** Decides whether a label may teach (trust/trust-gate.ts). */
    private readonly gate: TrustGate,
  ) {
    this.writer = new GroupCommit((rows) => this.insert(rows), { maxBatch: 1000, concurrency: 2 });
  }

  /**
   * Records whether a prediction was right. Answers only after the row is committed; a retry
   * (same idempotency key, or the same answer again) returns the feedback already recorded.
   */
  async recordFeedback(input: FeedbackInput, teacher: Teacher = ANONYMOUS_TEACHER): Promise<FeedbackRecord> {
    return (await this.record(input, teacher)).feedback;
  }

  /** recordFeedback, with the prediction it labels (read once: the API answers its fields from it). */
  async record(input: FeedbackInput, teacher: Teacher = ANONYMOUS_TEACHER): Promise<{ feedback: FeedbackRecord; prediction: PredictionRecord }> {
    const hasCorrect = input.correct !== undefined && input.correct !== null;
    const hasActual = input.actual !== undefined && input.actual !== null;
    if (hasCorrect === hasActual) {
      throw AppError.badInput([{ field: hasCorrect ? 'correct' : 'actual', reason: 'give exactly one of correct or actual' }]);
    }
    if (!isUuid(input.predictionId)) {
      throw AppError.badInput([{ field: 'predictionId', reason: 'is not a prediction id (a UUID)' }]);
    }
    checkIdempotencyKey(input.idempotencyKey);
    checkEndUserId(input.endUserId);
    const prediction = await this.predictions.get(input.predictionId);
    if (!prediction) throw new AppError('NOT_FOUND', `prediction ${input.predictionId} does not exist`);
    const task = this.tasks.get(prediction.model)!;
    const actual = hasActual ? checkLabel(task, input.actual!, 'actual') : actualFromCorrect(task, prediction.label, input.correct!);
    const row: NewFeedback = {
      model: prediction.model,
      predictionId: prediction.id,
      modelVersionId: prediction.modelVersionId,
      predicted: prediction.label,
      actual,
      correct: actual === prediction.label,
      idempotencyKey: input.idempotencyKey ?? null,
      kind: 'feedback',
      source: teacher.source,
      endUserId: input.endUserId ?? null,
      inputKey: inputKey(task, prediction.input),
      quarantined: false,
      quarantineReason: null,
    };
    const verdict = await this.gate.judge({
      model: task.name,
      rules: task.definition.trust,
      teacher,
      against: !row.correct,
      servedProbability: prediction.probability,
    });
    row.quarantined = verdict.quarantined;
    row.quarantineReason = verdict.reason;
    const inserted = await this.writer.submit(row);
    if (!inserted) return { feedback: await this.resolveConflict(row), prediction };
    if (inserted.quarantined) {
      this.events.emit('feedbackQuarantined', { feedback: inserted });
      return { feedback: inserted, prediction };
    }
    this.events.emit('feedbackRecorded', { feedback: inserted, version: prediction.version });
    this.models.learn(task.name, { id: inserted.id, xid: BigInt(inserted.xid) }, prediction.input, actual);
    return { feedback: inserted, prediction };
  }

  /**
   * Each source of `model`'s feedback (most active first, at most 100): what it taught (counted
   * rows, their accuracy against the model's predictions), what waits in the queue, and its trust.
   */
  async sources(model: string): Promise<SourceSummary[]> {
    const task = this.tasks.get(model);
    if (!task) throw AppError.badInput([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
    const sources = await this.repository.sources(model, 100);
    return Promise.all(
      sources.map(async (s) => {
        const counts = await this.repository.counts(model, task.positiveLabel, {}, null, s.source);
        const n = counts.tp + counts.tn + counts.fp + counts.fn;
        const trust = await this.gate.trust(model, { source: s.source, trusted: s.source === ADMIN_SOURCE });
        return {
          ...s,
          agreeing: n === 0 ? null : (counts.tp + counts.tn) / n,
          labelled: n,
          agreeingInterval: proportionInterval(counts.tp + counts.tn, n),
          trust,
        };
      }),
    );
  }

  /** The review queue of `model`, oldest first. */
  quarantined(model: string, first: number | null = null): Promise<FeedbackRecord[]> {
    if (!this.tasks.get(model)) throw AppError.badInput([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
    const limit = first ?? MAX_QUARANTINE_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUARANTINE_PAGE) {
      throw AppError.badInput([{ field: 'first', reason: `must be 1 to ${MAX_QUARANTINE_PAGE}` }]);
    }
    return this.repository.quarantined(model, limit);
  }

  /**
   * Decides quarantined feedback (by ids, or every queued row of one source): released rows teach
   * every process's live model exactly once (learning-cursor.ts) and count from now on; rejected
   * rows never do. Answers after this process's live model has learned what was released.
   * Returns how many rows were decided (rows already decided, retracted or unknown are skipped).
   */
  async reviewQuarantine(
    target: { ids: readonly string[] } | { model: string; source: string },
    decision: 'RELEASE' | 'REJECT',
    actor: string,
  ): Promise<number> {
    let which: { ids: number[] } | { model: string; source: string };
    if ('ids' in target) {
      which = { ids: feedbackIds(target.ids, 'ids') };
      if (which.ids.length === 0) return 0;
    } else {
      if (!this.tasks.get(target.model)) throw AppError.badInput([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
      which = target;
    }
    const outcome = decision === 'RELEASE' ? 'released' : 'rejected';
    const decided = await this.repository.review(which, outcome, actor);
    const byModel = groupByModel(decided.map((d) => d.feedback));
    for (const [model, ids] of byModel) {
      this.events.emit('quarantineReviewed', { model, ids, decision: outcome, actor });
      if (outcome === 'released') {
        this.events.emit('feedbackBatchCommitted', { model, ...idRange(ids) });
        await this.models.catchUp(model);
      }
    }
    // A released row is recorded feedback from now on: its followers (the Prometheus counters,
    // live metrics, the retrain trigger) see it exactly as they see feedback that passed the gate.
    if (outcome === 'released') for (const d of decided) this.events.emit('feedbackRecorded', d);
    return decided.length;
  }

  /**
   * Takes feedback back (admin): every process's live model unlearns each retracted row exactly
   * once, metrics and triggers drop it, the next dataset version leaves it out, and the retraction
   * is recorded. Answers after this process's live model has unlearned it.
   */
  async retract(criteria: RetractionCriteria, actor: string): Promise<{ id: number; count: number }> {
    const reason = criteria.reason.trim();
    if (reason.length === 0 || reason.length > MAX_REASON_LENGTH)
      throw AppError.badInput([{ field: 'reason', reason: `must be 1 to ${MAX_REASON_LENGTH} characters` }]);
    const unstorable = unstorableTextReason(reason);
    if (unstorable !== null) throw AppError.badInput([{ field: 'reason', reason: unstorable }]);
    const model = criteria.model ?? null;
    if (model !== null && !this.tasks.get(model))
      throw AppError.badInput([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
    const ids = criteria.ids ? feedbackIds(criteria.ids, 'ids') : null;
    const source = criteria.source ?? null;
    if (source !== null && (source.length === 0 || source.length > 200)) throw AppError.badInput([{ field: 'source', reason: 'must be 1 to 200 characters' }]);
    const from = criteria.from ?? null;
    const to = criteria.to ?? null;
    if (ids === null && source === null && from === null && to === null) {
      throw AppError.badInput([{ field: 'ids', reason: 'give ids, a source, or a time range (from and/or to)' }]);
    }
    if (from && to && !(from < to)) throw AppError.badInput([{ field: 'to', reason: 'must be after from' }]);
    const { retractionId, rows } = await this.repository.retract({ model, ids, source, from, to }, actor, reason);
    const byModel = groupByModel(rows);
    this.events.emit('feedbackRetracted', { retractionId, models: [...byModel.keys()], count: rows.length, actor, reason });
    for (const [m, list] of byModel) {
      this.events.emit('feedbackBatchCommitted', { model: m, ...idRange(list) });
      await this.models.catchUp(m);
    }
    return { id: retractionId, count: rows.length };
  }

  /** Outcomes of predictions made elsewhere: they count in the metrics, but teach no model (no input). */
  async recordOutcomes(model: string, outcomes: OutcomeInput[], version?: number | null, teacher: Teacher = ANONYMOUS_TEACHER): Promise<FeedbackRecord[]> {
    const task = this.tasks.get(model);
    if (!task) throw AppError.badInput([{ field: 'model', reason: `unknown model; known: ${this.tasks.names().join(', ')}` }]);
    if (outcomes.length === 0) throw AppError.badInput([{ field: 'outcomes', reason: 'must not be empty' }]);
    let modelVersionId: number | null = null;
    if (version !== undefined && version !== null) {
      const v = await this.models.version(model, version);
      if (!v) throw new AppError('NOT_FOUND', `model ${model} has no version ${version}`);
      modelVersionId = v.id;
    }
    const rows = outcomes.map((o, i): NewFeedback => {
      const predicted = checkLabel(task, o.predicted, `outcomes.${i}.predicted`);
      const actual = checkLabel(task, o.actual, `outcomes.${i}.actual`);
      checkIdempotencyKey(o.idempotencyKey, `outcomes.${i}.idempotencyKey`);
      checkEndUserId(o.endUserId, `outcomes.${i}.endUserId`);
      return {
        model,
        predictionId: null,
        modelVersionId,
        predicted,
        actual,
        correct: predicted === actual,
        idempotencyKey: o.idempotencyKey ?? null,
        kind: 'outcome',
        source: teacher.source,
        endUserId: o.endUserId ?? null,
        inputKey: null,
        quarantined: false,
        quarantineReason: null,
      };
    });
    // Judged in order, each counted before the next: a burst inside one request is a burst.
    const verdicts = rows.map((r) => this.gate.judge({ model, rules: task.definition.trust, teacher, against: !r.correct, servedProbability: null }));
    for (const [i, verdict] of (await Promise.all(verdicts)).entries()) {
      rows[i]!.quarantined = verdict.quarantined;
      rows[i]!.quarantineReason = verdict.reason;
    }
    const results = await this.writer.submitMany(rows);
    const out: FeedbackRecord[] = [];
    for (const [i, r] of results.entries()) {
      if (r) {
        if (r.quarantined) this.events.emit('feedbackQuarantined', { feedback: r });
        else this.events.emit('feedbackRecorded', { feedback: r, version: version ?? null });
        out.push(r);
      } else out.push(await this.resolveConflict(rows[i]!));
    }
    return out;
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** One event per model per batch (other processes learn these rows from the database). */
  private announce(inserted: readonly FeedbackRecord[]): void {
    const ranges = new Map<string, { from: number; to: number }>();
    for (const r of inserted) {
      if (!r.predictionId || r.quarantined) continue;
      const id = r.id;
      const range = ranges.get(r.model);
      if (range) {
        range.from = Math.min(range.from, id);
        range.to = Math.max(range.to, id);
      } else ranges.set(r.model, { from: id, to: id });
    }
    for (const [model, range] of ranges) this.events.emit('feedbackBatchCommitted', { model, ...range });
  }

  /** A row was not inserted: decide whether it is a retry of what is stored or a real conflict. */
  private async resolveConflict(row: NewFeedback): Promise<FeedbackRecord> {
    const existing = await this.repository.findConflicting(row);
    if (!existing) throw new Error('feedback insert conflicted but no conflicting row was found');
    if (row.idempotencyKey !== null && existing.idempotencyKey === row.idempotencyKey && existing.source === row.source) {
      if (existing.predictionId !== row.predictionId || existing.actual !== row.actual) {
        throw new AppError('CONFLICT', `idempotencyKey "${row.idempotencyKey}" was already used for a different feedback`);
      }
      return existing;
    }
    if (existing.actual === row.actual) return existing;
    throw new AppError(
      'CONFLICT',
      `prediction ${row.predictionId} already has feedback (actual: ${existing.actual}); task ${row.model} does not take corrections`,
    );
  }

  /** One statement per batch; rows that hit a unique constraint come back as null. */
  private async insert(rows: NewFeedback[]): Promise<(FeedbackRecord | null)[]> {
    const { results, inserted } = await this.repository.insertMany(rows);
    this.announce(inserted);
    return results;
  }
}

function checkLabel(task: Task, label: string, field: string): string {
  if (!task.isLabel(label)) {
    throw AppError.badInput([{ field, reason: `unknown label "${label}"; ${task.name} labels are ${task.labels.join(', ')}` }]);
  }
  return label;
}

function checkIdempotencyKey(key: string | null | undefined, field = 'idempotencyKey'): void {
  if (key === undefined || key === null) return;
  if (key.length === 0 || key.length > 200) throw AppError.badInput([{ field, reason: 'must be 1 to 200 characters' }]);
  const unstorable = unstorableTextReason(key);
  if (unstorable !== null) throw AppError.badInput([{ field, reason: unstorable }]);
}

function checkEndUserId(id: string | null | undefined, field = 'endUserId'): void {
  if (id === undefined || id === null) return;
  if (id.length === 0 || id.length > 200) throw AppError.badInput([{ field, reason: 'must be 1 to 200 characters' }]);
  const unstorable = unstorableTextReason(id);
  if (unstorable !== null) throw AppError.badInput([{ field, reason: unstorable }]);
}

/** Feedback ids as the API gives them (ID strings of positive integers), bounded in number. */
function feedbackIds(ids: readonly string[], field: string): number[] {
  if (ids.length > MAX_IDS) throw AppError.badInput([{ field, reason: `at most ${MAX_IDS} ids per call` }]);
  return ids.map((id, i) => {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) throw AppError.badInput([{ field: `${field}.${i}`, reason: 'is not a feedback id' }]);
    return Number(id);
  });
}

function groupByModel(rows: readonly { id: number; model: string }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const list = out.get(r.model);
    if (list) list.push(r.id);
    else out.set(r.model, [r.id]);
  }
  return out;
}

function idRange(ids: readonly number[]): { from: number; to: number } {
  return { from: ids.reduce((a, b) => Math.min(a, b)), to: ids.reduce((a, b) => Math.max(a, b)) };
}

/** "Incorrect" names the actual label only when there is exactly one other label. */
function actualFromCorrect(task: Task, predicted: string, correct: boolean): string {
  if (correct) return predicted;
  const others = task.labels.filter((l) => l !== predicted);
  if (others.length !== 1) {
    throw AppError.badInput([{ field: 'correct', reason: `task ${task.name} has several other labels: give actual instead` }]);
  }
  return others[0]!;
}
