import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const RETRAIN_STATES = ['QUEUED', 'SNAPSHOTTING', 'TRAINING', 'EVALUATING', 'REGISTERING', 'PROMOTED', 'REJECTED', 'FAILED'] as const;
export type RetrainState = (typeof RETRAIN_STATES)[number];

export interface RetrainTrigger {
  kind: 'manual' | 'feedback-count' | 'accuracy' | 'drift' | 'alert';
  reason: string;
  /** Who asked (a principal's name) when a person did; automatic triggers name none. */
  actor?: string;
  at: string;
}

/**
 * A retrain as people see it: why it ran, where it is, what it produced. The queue (pg-boss)
 * only delivers it; this row is the record. Triggers that arrive while it is still queued are
 * added to it instead of queueing another retrain.
 */
export const RetrainJob = defineEntity({
  name: 'RetrainJob',
  tableName: 'retrain_job',
  properties: {
    id: p.uuid().primary(),
    model: p.string().length(64),
    state: p.enum(RETRAIN_STATES).default('QUEUED'),
    triggers: p.json<RetrainTrigger[]>(),
    progress: p.double().default(0),
    /** The model version it produced (promoted or rejected). */
    version: p.integer().nullable(),
    message: p.text().nullable(),
    attempts: p.integer().default(0),
    maxAttempts: p.integer(),
    createdAt: p.datetime().onCreate(() => new Date()),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
  indexes: [{ properties: ['model', 'createdAt'] }, { properties: ['model', 'state'] }],
});
export type IRetrainJob = InferEntity<typeof RetrainJob>;

export const TERMINAL_STATES: readonly RetrainState[] = ['PROMOTED', 'REJECTED'];

/** Done for good: promoted, rejected, or failed with no attempt left. */
export function isFinished(job: Pick<IRetrainJob, 'state' | 'attempts' | 'maxAttempts'>): boolean {
  return TERMINAL_STATES.includes(job.state) || (job.state === 'FAILED' && job.attempts >= job.maxAttempts);
}
