import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { ModelVersion } from '../models/model-version.entity.js';
import { Prediction } from '../predictions/prediction.entity.js';

/**
 * A labelled outcome. Either feedback on a stored prediction (prediction set), or an outcome
 * of a prediction made elsewhere (`recordOutcomes`, prediction null). The bigserial id orders
 * feedback, which online learning replays and windows count back from.
 */
export const Feedback = defineEntity({
  name: 'Feedback',
  tableName: 'feedback',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    model: p.string().length(64),
    // Unique: one prediction never counts twice, whatever the retries.
    prediction: () => p.manyToOne(Prediction).nullable().unique(),
    modelVersion: () => p.manyToOne(ModelVersion).nullable(),
    predicted: p.string().length(128),
    actual: p.string().length(128),
    correct: p.boolean(),
    idempotencyKey: p.string().length(200).nullable().unique(),
    source: p.enum(['feedback', 'outcome'] as const).default('feedback'),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ properties: ['model', 'id'] }, { properties: ['model', 'createdAt'] }],
});
export type IFeedback = InferEntity<typeof Feedback>;
