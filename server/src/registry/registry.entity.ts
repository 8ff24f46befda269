import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// The embedded registry's tables: what an MLflow tracking server would hold, kept in Relearn's own database.

export const REGISTRY_RUN_STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'] as const;

/** One training run: its params, latest metric values, tags; artifacts live in the blob store. */
export const RegistryRun = defineEntity({
  name: 'RegistryRun',
  tableName: 'registry_run',
  properties: {
    runId: p.uuid().primary(),
    model: p.string().length(64),
    name: p.text(),
    status: p.enum(REGISTRY_RUN_STATUSES).default('RUNNING'),
    params: p.json<Record<string, string>>(),
    metrics: p.json<Record<string, number>>(),
    tags: p.json<Record<string, string>>(),
    startTime: p.datetime(),
    endTime: p.datetime().nullable(),
  },
  indexes: [{ properties: ['model', 'startTime'] }],
});
export type IRegistryRun = InferEntity<typeof RegistryRun>;

/** A registered version of a model: numbered 1, 2, ... per model, pointing at a run's artifacts. */
export const RegistryModelVersion = defineEntity({
  name: 'RegistryModelVersion',
  tableName: 'registry_model_version',
  properties: {
    id: p.integer().primary().autoincrement(),
    model: p.string().length(64),
    version: p.integer(),
    runId: p.uuid(),
    /** Blob-store key prefix of the registered artifacts. */
    source: p.text(),
    tags: p.json<Record<string, string>>(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  uniques: [{ properties: ['model', 'version'] }],
});
export type IRegistryModelVersion = InferEntity<typeof RegistryModelVersion>;

/** A named pointer (`champion`, ...) to one version of a model. */
export const RegistryAlias = defineEntity({
  name: 'RegistryAlias',
  tableName: 'registry_alias',
  properties: {
    id: p.integer().primary().autoincrement(),
    model: p.string().length(64),
    alias: p.string().length(255),
    version: p.integer(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
  uniques: [{ properties: ['model', 'alias'] }],
});
export type IRegistryAlias = InferEntity<typeof RegistryAlias>;
