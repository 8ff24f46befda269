import type { FeedbackRecord } from '../feedback/feedback.types.js';
import type { Logger } from '../logger.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';

/**
 * What happened in this process, for this process's own followers (Prometheus counters, live
 * metrics pushes, retrain triggers, the cross-process announcement). Synchronous and in memory:
 * these reactions are per process, so they must never be driven by another process's NOTIFY
 * (that would count the same feedback twice). Cross-process topics are in event-bus.ts.
 */
export type DomainEventMap = {
  /** One predict or predictBatch request stored its predictions, in `seconds`. */
  predictionsServed: { predictions: readonly PredictionRecord[]; seconds: number };
  /** A feedback or outcome row was committed; `version` served the prediction (null: unknown origin). */
  feedbackRecorded: { feedback: FeedbackRecord; version: number | null };
  /** The trust gate held a feedback or outcome back: stored, teaching nothing, in the review queue. */
  feedbackQuarantined: { feedback: FeedbackRecord };
  /** An admin released or rejected quarantined feedback `ids` of `model`. */
  quarantineReviewed: { model: string; ids: readonly number[]; decision: 'released' | 'rejected'; actor: string };
  /** An admin retracted `count` feedback rows (retraction `retractionId`) of `models`. */
  feedbackRetracted: { retractionId: number; models: readonly string[]; count: number; actor: string; reason: string };
  /** Feedback ids `from`..`to` on predictions of `model` were committed in one batch. */
  feedbackBatchCommitted: { model: string; from: number; to: number };
  /** A retrain attempt started in this process. */
  retrainStarted: { model: string };
  /** A retrain attempt finished in this process after `seconds` (job, version and message: the audit log). */
  retrainFinished: {
    model: string;
    outcome: 'promoted' | 'rejected' | 'failed';
    seconds: number;
    jobId?: string;
    version?: number | null;
    message?: string | null;
  };
  /** A retrain was asked for and committed (`joined`: the trigger joined a job already waiting). */
  retrainRequested: { model: string; jobId: string; kind: string; reason: string; actor: string; joined: boolean };
  /** `version` was made the live one by `actor` (a promotion, a rollback, or a roll forward). */
  modelVersionActivated: { model: string; version: number; previousVersion: number | null; actor: string; reason: string };
  /** An admin created an API key (never its secret). */
  apiKeyCreated: { keyId: string; principal: string; scopes: readonly string[]; actor: string };
  /** An admin revoked an API key. */
  apiKeyRevoked: { keyId: string; principal: string; actor: string };
  /** Retention dropped a time partition of `prediction` (ids made from `from` to `to`); its feedback rows stay, unlinked. */
  predictionPartitionDropped: {
    partition: string;
    from: Date;
    to: Date;
    rows: number;
    bytes: number;
    unlinkedFeedback: number;
    retentionDays: number;
  };
  /** Retention deleted `rows` predictions made before `before` from the default partition. */
  predictionsPurged: { partition: string; before: Date; rows: number; retentionDays: number };
};

type Handler<K extends keyof DomainEventMap> = (payload: DomainEventMap[K]) => void;

/**
 * A typed synchronous emitter. Hand-written rather than node:events: a follower that throws is
 * logged and must neither fail the request that published nor keep the other followers from running.
 */
export class DomainEvents {
  private readonly handlers = new Map<keyof DomainEventMap, Handler<never>[]>();

  constructor(private readonly logger: Pick<Logger, 'error'>) {}

  /** Follows `event`; returns the function that stops following it. */
  on<K extends keyof DomainEventMap>(event: K, handler: Handler<K>): () => void {
    const list = (this.handlers.get(event) ?? []) as Handler<K>[];
    this.handlers.set(event, [...list, handler] as Handler<never>[]);
    return () => this.handlers.set(event, ((this.handlers.get(event) ?? []) as Handler<K>[]).filter((h) => h !== handler) as Handler<never>[]);
  }

  /** Runs every follower of `event` now, in the order they subscribed. */
  emit<K extends keyof DomainEventMap>(event: K, payload: DomainEventMap[K]): void {
    for (const handler of (this.handlers.get(event) ?? []) as Handler<K>[]) {
      try {
        handler(payload);
      } catch (error) {
        this.logger.error({ err: error, event }, 'a follower of a domain event failed');
      }
    }
  }
}
