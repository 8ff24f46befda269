import { createPubSub, type PubSub } from 'graphql-yoga';

/** What happened, for subscribers and for other parts of this process. */
export type RelearnEvents = {
  /** Live metrics of a model changed (published at most once per push interval). */
  metricsChanged: [model: string];
  /** A model version became live (promotion, rollback or bootstrap). */
  modelActivated: [model: string, version: number];
};

export type EventBus = PubSub<RelearnEvents>;

/** In-process bus; a PostgreSQL-backed event target replaces it when processes scale out. */
export function createEventBus(): EventBus {
  return createPubSub<RelearnEvents>();
}
