import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export interface DatasetManifest {
  /** Version number of the dataset this one extends. */
  parent: number | null;
  rowCount: number;
  labelCounts: Record<string, number>;
  trainRows: number;
  holdoutRows: number;
  sources: string[];
  feedbackIdRange: [number, number] | null;
  /** The highest feedback id considered (kept or dropped) for this version. */
  feedbackThrough: number;
  /**
   * Every feedback visible in this PostgreSQL snapshot was considered (this version's rows and its
   * parents'); absent in versions made before snapshots were recorded (then: ids up to feedbackThrough).
   */
  feedbackSnapshot?: string;
  droppedRows: number;
  /** Why rows were dropped, by reason (invalid, outlier, duplicate, window). */
  dropped?: Record<string, number>;
  /** Blob keys of the files beside the rows: split, metrics report, confusion matrix. */
  files?: Record<string, string>;
  codeVersion: string;
  createdAt: string;
}

/** An immutable, content-addressed snapshot of a task's training data. */
export const DatasetVersion = defineEntity({
  name: 'DatasetVersion',
  tableName: 'dataset_version',
  properties: {
    id: p.integer().primary().autoincrement(),
    model: p.string().length(64),
    version: p.integer(),
    /** sha256 of the canonical row encoding: the same rows always give the same hash. */
    contentHash: p.string().length(64),
    /** Where the rows are stored (a blob-store key). */
    location: p.text(),
    manifest: p.json<DatasetManifest>(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  // The same rows are the same dataset version: content addressing makes snapshots idempotent.
  uniques: [{ properties: ['model', 'version'] }, { properties: ['model', 'contentHash'] }],
});
export type IDatasetVersion = InferEntity<typeof DatasetVersion>;
