import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const TRAINING_RUN_STATES = ['RUNNING', 'SUCCEEDED', 'FAILED'] as const;

/** One execution of training: what triggered it, what it read, what it produced. */
export const TrainingRun = defineEntity({
  name: 'TrainingRun',
  tableName: 'training_run',
  properties: {
    id: p.integer().primary().autoincrement(),
    model: p.string().length(64),
    state: p.enum(TRAINING_RUN_STATES).default('RUNNING'),
    reason: p.text(),
    datasetVersionId: p.integer().nullable(),
    modelVersionId: p.integer().nullable(),
    message: p.text().nullable(),
    durationMs: p.double().nullable(),
    startedAt: p.datetime().onCreate(() => new Date()),
    finishedAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['model', 'startedAt'] }],
});
export type ITrainingRun = InferEntity<typeof TrainingRun>;
