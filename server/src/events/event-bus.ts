import { createPubSub, type PubSub } from 'graphql-yoga';

/** What happened, for subscribers and for other parts of this process (one payload per topic). */
export type RelearnEvents = {
  /** Live metrics of a model changed (published at most once per push interval). */
  metricsChanged: [model: string];
  /** A version became the live model of this process (start-up, promotion, rollback). */
  modelActivated: [{ model: string; version: number }];
};

export type EventBus = PubSub<RelearnEvents>;

/** In-process bus; a PostgreSQL-backed event target replaces it when processes scale out. */
export function createEventBus(): EventBus {
  return createPubSub<RelearnEvents>();
}
