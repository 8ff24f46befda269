import { createPubSub, type PubSub } from 'graphql-yoga';
import type { RetrainState } from '../retraining/retrain-job.entity.js';

/**
 * What happened, for subscribers and for other parts of this process (one payload per topic).
 * Payloads are ids and fixed-size fields only: across processes they travel as a NOTIFY, which
 * PostgreSQL caps at 8000 bytes; subscribers read the record itself from its table.
 */
export type RelearnEvents = {
  /** Live metrics of a model changed (published at most once per push interval). */
  metricsChanged: [model: string];
  /** A version became the live model of this process (start-up, promotion, rollback). */
  modelActivated: [{ model: string; version: number }];
  /** A retrain job was queued, moved a step, or finished: the step it took (the rest is in its row). */
  retrainJobChanged: [{ id: string; model: string; state: RetrainState; progress: number; attempts: number }];
  /** Feedback ids `from`..`to` of a model were committed by process `origin` (other processes learn them). */
  feedbackCommitted: [{ model: string; from: number; to: number; origin: string }];
  /** An alert notification was received and handled (the row is written before this is published). */
  alertReceived: [{ id: string; model: string | null }];
  /** An audit entry was committed (subscribers read it by id). */
  auditEntryAdded: [{ id: string; model: string | null; kind: string }];
  /** An API key was revoked: every process forgets it at once (its cache of verified keys). */
  apiKeyRevoked: [{ id: string }];
};

export type EventBus = PubSub<RelearnEvents>;

/** In-process by default; with an event target (PostgreSQL LISTEN/NOTIFY) across processes. */
export function createEventBus(eventTarget: EventTarget | null = null): EventBus {
  return createPubSub<RelearnEvents>(eventTarget ? { eventTarget: eventTarget as never } : {});
}

/** The `retrainJobChanged` payload of a job: which job, and the step it is at. */
export function retrainStep(job: {
  id: string;
  model: string;
  state: RetrainState;
  progress: number | string;
  attempts: number;
}): RelearnEvents['retrainJobChanged'][0] {
  return { id: job.id, model: job.model, state: job.state, progress: Number(job.progress), attempts: job.attempts };
}
