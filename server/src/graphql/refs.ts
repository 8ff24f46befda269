import type { FeedbackRecord } from '../feedback/feedback.types.js';
import type { Interval } from '../ml/estimation.js';
import type { LiveMetrics } from '../metrics/metrics-service.js';
import type { IModelVersion } from '../models/model-version.entity.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import type { Builder } from './builder.js';

/** Types that several domains return, declared first so each domain file can implement its own. */
export function createSharedRefs(builder: Builder) {
  return {
    ModelMetrics: builder.objectRef<LiveMetrics>('ModelMetrics'),
    ModelVersion: builder.objectRef<IModelVersion>('ModelVersion'),
    Prediction: builder.objectRef<PredictionRecord>('Prediction'),
    Feedback: builder.objectRef<FeedbackRecord>('Feedback'),
    Interval: builder.objectRef<Interval>('Interval'),
  };
}

export type SharedRefs = ReturnType<typeof createSharedRefs>;
