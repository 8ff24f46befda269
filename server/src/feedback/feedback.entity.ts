import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { ModelVersion } from '../models/model-version.entity.js';
import { Prediction } from '../predictions/prediction.entity.js';

/**
 * A labelled outcome. Either feedback on a stored prediction (prediction set), or an outcome
 * of a prediction made elsewhere (`recordOutcomes`, prediction null). The bigserial id orders
 * feedback for windows; which rows a model has learned is decided by `xid` (see learning-cursor.ts).
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
    // The transaction that wrote the row: what online learning and datasets use as their cursor
    // (feedback/learning-cursor.ts), since ids do not commit in order.
    xid: p.string().columnType('xid8').defaultRaw('pg_current_xact_id()').lazy(),
  },
  indexes: [{ properties: ['model', 'id'] }, { properties: ['model', 'createdAt'] }, { properties: ['model', 'xid'] }],
});
export type IFeedback = InferEntity<typeof Feedback>;
