import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { ModelVersion } from '../models/model-version.entity.js';

export interface ClassScore {
  label: string;
  probability: number;
}

/** A served prediction, stored before it is returned so feedback can always find it. */
export const Prediction = defineEntity({
  name: 'Prediction',
  tableName: 'prediction',
  properties: {
    id: p.uuid().primary(),
    model: p.string().length(64),
    modelVersion: () => p.manyToOne(ModelVersion),
    input: p.json<Record<string, unknown>>(),
    label: p.string().length(128),
    probability: p.double(),
    scores: p.json<ClassScore[]>(),
    latencyMs: p.double(),
    // Answered with a request for feedback (the audit sample, drawn at random when predicting).
    feedbackRequested: p.boolean().default(false),
    // Who asked: the principal's name, 'anonymous' without one (as feedback records its source);
    // null for predictions stored before it was recorded. A stratum of the corrected accuracy.
    source: p.string().length(200).nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [
    // By (model, time), carrying what metricsHistory and the honest-accuracy figures read, so their
    // range scans need not visit the table; it replaces the plain (model, created_at) index, so a
    // prediction still updates one index besides the primary key.
    {
      name: 'prediction_model_created_at_covering',
      properties: ['model', 'createdAt'],
      include: ['id', 'modelVersion', 'label', 'probability', 'feedbackRequested', 'source'],
    },
  ],
});
export type IPrediction = InferEntity<typeof Prediction>;
