import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export interface DatasetManifest {
  parent: number | null;
  rowCount: number;
  labelCounts: Record<string, number>;
  trainRows: number;
  holdoutRows: number;
  sources: string[];
  feedbackIdRange: [number, number] | null;
  droppedRows: number;
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
  uniques: [{ properties: ['model', 'version'] }],
});
export type IDatasetVersion = InferEntity<typeof DatasetVersion>;
