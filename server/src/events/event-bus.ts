import { createPubSub, type PubSub } from 'graphql-yoga';
import type { AlertRecord } from '../alerts/alert-service.js';
import type { RetrainJobRecord } from '../retraining/retrain-service.js';

/** What happened, for subscribers and for other parts of this process (one payload per topic). */
export type RelearnEvents = {
  /** Live metrics of a model changed (published at most once per push interval). */
  metricsChanged: [model: string];
  /** A version became the live model of this process (start-up, promotion, rollback). */
  modelActivated: [{ model: string; version: number }];
  /** A retrain job was queued, moved a step, or finished. */
  retrainJobChanged: [RetrainJobRecord];
  /** Feedback ids `from`..`to` of a model were committed by process `origin` (other processes learn them). */
  feedbackCommitted: [{ model: string; from: number; to: number; origin: string }];
  /** An alert notification was received and handled. */
  alertReceived: [AlertRecord];
};

export type EventBus = PubSub<RelearnEvents>;

/** In-process by default; with an event target (PostgreSQL LISTEN/NOTIFY) across processes. */
export function createEventBus(eventTarget: EventTarget | null = null): EventBus {
  return createPubSub<RelearnEvents>(eventTarget ? { eventTarget: eventTarget as never } : {});
}
