import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { DatasetVersion } from '../training/dataset-version.entity.js';
import type { ClassificationReport } from '../metrics/classification-report.js';

export interface PromotionEvaluation {
  challenger: { holdout: ClassificationReport; recent: ClassificationReport };
  champion: { version: number; holdout: ClassificationReport; recent: ClassificationReport } | null;
  margin: number;
  promote: boolean;
  summary: string;
}

export const MODEL_VERSION_STATUSES = ['CANDIDATE', 'LIVE', 'RETIRED', 'REJECTED'] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

/** One trained model of a task. Exactly one version per task is LIVE at a time. */
export const ModelVersion = defineEntity({
  name: 'ModelVersion',
  tableName: 'model_version',
  properties: {
    id: p.integer().primary().autoincrement(),
    model: p.string().length(64),
    version: p.integer(),
    status: p.enum(MODEL_VERSION_STATUSES).default('CANDIDATE'),
    /** The trained model as plain, versioned JSON (see ml/naive-bayes.ts). */
    artifact: p.json<unknown>().lazy(),
    /** Holdout metrics measured when the model was trained: the first of the "two accuracies". */
    trainingMetrics: p.json<ClassificationReport>().nullable(),
    datasetVersion: () => p.manyToOne(DatasetVersion).nullable(),
    /** Challenger and champion on the same held-out rows, and the gate's verdict. */
    evaluation: p.json<PromotionEvaluation>().nullable(),
    /** The highest feedback id in the training data (for people; the cursor is the snapshot below). */
    trainedThroughFeedbackId: p.bigint('number').default(0),
    /**
     * The snapshot (pg_snapshot text) the training data's feedback was read through: rows not
     * visible in it are replayed online (feedback/learning-cursor.ts). Null for versions trained
     * before snapshots were recorded, whose cursor is trainedThroughFeedbackId.
     */
    trainedFeedbackSnapshot: p.text().nullable(),
    /** The retrain job that produced this version (null for bootstrap): a retried job reuses its version. */
    retrainJobId: p.uuid().nullable().unique(),
    /** Where the model registry (MLflow, or the embedded one) keeps this version's run and version. */
    registryRunId: p.string().length(64).nullable(),
    registryVersion: p.string().length(32).nullable(),
    registryRunUrl: p.text().nullable(),
    registryVersionUrl: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    activatedAt: p.datetime().nullable(),
  },
  uniques: [{ properties: ['model', 'version'] }],
  indexes: [{ properties: ['model', 'status'] }],
});
export type IModelVersion = InferEntity<typeof ModelVersion>;

/** Who or what made a version live, and when: MLflow keeps no history of alias moves, so Relearn does. */
export const ModelActivation = defineEntity({
  name: 'ModelActivation',
  tableName: 'model_activation',
  properties: {
    id: p.integer().primary().autoincrement(),
    model: p.string().length(64),
    modelVersion: () => p.manyToOne(ModelVersion),
    previousVersion: p.integer().nullable(),
    actor: p.string().length(128),
    reason: p.text(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  indexes: [{ properties: ['model', 'createdAt'] }],
});
export type IModelActivation = InferEntity<typeof ModelActivation>;
