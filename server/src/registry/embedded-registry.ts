import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { lockFor } from '../database/advisory-lock.js';
import type { Orm } from '../database/orm.js';
import { isUuid } from '../shared/uuid.js';
import type { BlobStore } from '../storage/blob-store.js';
import {
  RegistryError,
  assertValidAlias,
  finiteMetrics,
  normaliseArtifactPath,
  type ModelRegistry,
  type RegistryRun as RegistryRunRef,
  type RegistryRunStatus,
} from './model-registry.js';
import { RegistryAlias, RegistryModelVersion, RegistryRun, type IRegistryRun } from './registry.entity.js';

/** The default registry: runs, versions and aliases in PostgreSQL, artifacts in the blob store. */
export class EmbeddedRegistry implements ModelRegistry {
  readonly kind = 'embedded';

  constructor(
    private readonly orm: Orm,
    private readonly blobs: BlobStore,
  ) {}

  async startRun(model: string, input: { runName: string; tags: Record<string, string> }): Promise<RegistryRunRef> {
    const em = this.orm.em.fork();
    const run = em.create(RegistryRun, {
      runId: randomUUID(),
      model,
      name: input.runName,
      status: 'RUNNING',
      params: {},
      metrics: {},
      tags: { ...input.tags },
      startTime: new Date(),
      endTime: null,
    });
    await em.flush();
    return { runId: run.runId, url: null };
  }

  async logRun(
    runId: string,
    data: { params?: Record<string, string | number>; metrics?: Record<string, number>; tags?: Record<string, string> },
  ): Promise<void> {
    const params = Object.entries(data.params ?? {}).map(([k, v]) => [k, String(v)] as const);
    const metrics = finiteMetrics(data.metrics);
    const tags = Object.entries(data.tags ?? {});
    if (params.length === 0 && metrics.length === 0 && tags.length === 0) return;
    await this.orm.em.fork().transactional(async (tx) => {
      // Row lock: concurrent logRun calls on one run merge instead of overwriting each other.
      const run = await this.findRun(tx, 'logRun', runId, LockMode.PESSIMISTIC_WRITE);
      for (const [key, value] of params) {
        const old = run.params[key];
        if (old !== undefined && old !== value) {
          throw new RegistryError(
            'logRun',
            400,
            'INVALID_PARAMETER_VALUE',
            `param ${key} of run ${runId} is ${JSON.stringify(old)} and cannot change to ${JSON.stringify(value)}`,
          );
        }
      }
      // New objects, so the ORM sees the JSON columns changed.
      run.params = { ...run.params, ...Object.fromEntries(params) };
      run.metrics = { ...run.metrics, ...Object.fromEntries(metrics) };
      run.tags = { ...run.tags, ...Object.fromEntries(tags) };
    });
  }

  async uploadArtifact(runId: string, path: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    const run = await this.findRun(this.orm.em.fork(), 'uploadArtifact', runId);
    await this.blobs.put(artifactKey(run, path), body, contentType);
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const run = await this.findRun(this.orm.em.fork(), 'downloadArtifact', runId);
    const key = artifactKey(run, path);
    if (!(await this.blobs.exists(key))) {
      throw new RegistryError('downloadArtifact', 404, 'RESOURCE_DOES_NOT_EXIST', `run ${runId} has no artifact ${path}`);
    }
    return this.blobs.get(key);
  }

  async finishRun(runId: string, status: RegistryRunStatus): Promise<void> {
    const em = this.orm.em.fork();
    const run = await this.findRun(em, 'finishRun', runId);
    run.status = status;
    run.endTime = new Date();
    await em.flush();
  }

  async registerModelVersion(
    model: string,
    runId: string,
    artifactPath: string,
    tags: Record<string, string> = {},
  ): Promise<{ version: string; url: string | null }> {
    const run = await this.findRun(this.orm.em.fork(), 'registerModelVersion', runId);
    const source = artifactKey(run, artifactPath);
    const created = await this.orm.em.fork().transactional(async (tx) => {
      await lockRegisteredModel(tx, model);
      const latest = await tx.findOne(RegistryModelVersion, { model }, { orderBy: { version: 'desc' } });
      return tx.create(RegistryModelVersion, { model, version: (latest?.version ?? 0) + 1, runId, source, tags: { ...tags } });
    });
    return { version: String(created.version), url: null };
  }

  async setAlias(model: string, alias: string, version: string): Promise<void> {
    assertValidAlias('setAlias', alias);
    const number = parseVersion('setAlias', version);
    await this.orm.em.fork().transactional(async (tx) => {
      await lockRegisteredModel(tx, model);
      if (!(await tx.findOne(RegistryModelVersion, { model, version: number }))) {
        throw new RegistryError('setAlias', 404, 'RESOURCE_DOES_NOT_EXIST', `model ${model} has no version ${version}`);
      }
      const existing = await tx.findOne(RegistryAlias, { model, alias });
      if (existing) existing.version = number;
      else tx.create(RegistryAlias, { model, alias, version: number });
    });
  }

  async getAlias(model: string, alias: string): Promise<string | null> {
    const found = await this.orm.em.fork().findOne(RegistryAlias, { model, alias });
    return found ? String(found.version) : null;
  }

  private async findRun(em: EntityManager, call: string, runId: string, lockMode?: LockMode): Promise<IRegistryRun> {
    const run = isUuid(runId) ? await em.findOne(RegistryRun, { runId }, lockMode ? { lockMode } : {}) : null;
    if (!run) throw new RegistryError(call, 404, 'RESOURCE_DOES_NOT_EXIST', `run ${runId} does not exist`);
    return run;
  }
}

function artifactKey(run: IRegistryRun, path: string): string {
  return `registry/${run.model}/${run.runId}/${normaliseArtifactPath(path)}`;
}

function parseVersion(call: string, version: string): number {
  if (!/^[1-9]\d{0,9}$/.test(version)) throw new RegistryError(call, 400, 'INVALID_PARAMETER_VALUE', `invalid version ${JSON.stringify(version)}`);
  return Number(version);
}

/** Serialises version numbering and alias moves of one registered model across processes. */
async function lockRegisteredModel(em: EntityManager, model: string): Promise<void> {
  await lockFor(em, `relearn:registry:${model}`);
}
