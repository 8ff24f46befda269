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
    // Unique per source (with `source`, see uniques): one principal's key never blocks another's.
    idempotencyKey: p.string().length(200).nullable(),
    kind: p.enum(['feedback', 'outcome'] as const).default('feedback'),
    /** Who taught it: the principal's name, or 'anonymous' (trust is kept per source: trust/). */
    source: p.string().length(200).default('anonymous'),
    /** An end user the caller names (informational: the gate judges the principal, whom the caller cannot change). */
    endUserId: p.string().length(200).nullable(),
    /** sha-256 of the prediction's canonical input: the same input labelled by several sources is how trust is measured. */
    inputKey: p.string().length(64).nullable(),
    /** Held back by the trust gate: it teaches no model, counts in no headline metric or trigger, until released. */
    quarantined: p.boolean().default(false),
    quarantineReason: p.text().nullable(),
    review: p.enum(['released', 'rejected'] as const).nullable(),
    reviewedBy: p.string().length(200).nullable(),
    reviewedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    /** When it began to teach: its commit, or its release from quarantine (null while it does not). Time travel reads it. */
    learnedAt: p.datetime().nullable().defaultRaw('now()'),
    retraction: () => p.manyToOne(FeedbackRetraction).nullable(),
    retractedAt: p.datetime().nullable(),
    // The retracting transaction: live models unlearn by it exactly as they learn by `xid`.
    retractedXid: p.string().columnType('xid8').nullable().lazy(),
    // The transaction that wrote the row: what online learning and datasets use as their cursor
    // (feedback/learning-cursor.ts), since ids do not commit in order.
    xid: p.string().columnType('xid8').defaultRaw('pg_current_xact_id()').lazy(),
  },
  uniques: [{ properties: ['source', 'idempotencyKey'] }],
  indexes: [
    { properties: ['model', 'id'] },
    { properties: ['model', 'createdAt'] },
    { properties: ['model', 'xid'] },
    { properties: ['model', 'source', 'createdAt'] },
    { name: 'feedback_model_input_key_index', properties: ['model', 'inputKey'], where: 'input_key is not null' },
    { name: 'feedback_quarantine_queue_index', properties: ['model', 'id'], where: 'quarantined and review is null and retracted_at is null' },
    { name: 'feedback_model_retracted_xid_index', properties: ['model', 'retractedXid'], where: 'retracted_xid is not null' },
  ],
});
export type IFeedback = InferEntity<typeof Feedback>;

/** An admin's retraction: which feedback it took back (by ids, source and/or time), who, why, how many. */
export const FeedbackRetraction = defineEntity({
  name: 'FeedbackRetraction',
  tableName: 'feedback_retraction',
  properties: {
    id: p.integer().primary().autoincrement(),
    model: p.string().length(64).nullable(),
    actor: p.string().length(200),
    reason: p.text(),
    criteria: p.json<Record<string, unknown>>(),
    count: p.integer().default(0),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});
export type IFeedbackRetraction = InferEntity<typeof FeedbackRetraction>;
