import { randomUUID } from 'node:crypto';
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
import type { IRegistryRun } from './registry.entity.js';
import type { RegistryRepository } from './registry.repository.js';

/** The default registry: runs, versions and aliases in PostgreSQL, artifacts in the blob store. */
export class EmbeddedRegistry implements ModelRegistry {
  readonly kind = 'embedded';

  constructor(
    private readonly rows: RegistryRepository,
    private readonly blobs: BlobStore,
  ) {}

  async startRun(model: string, input: { runName: string; tags: Record<string, string> }): Promise<RegistryRunRef> {
    const runId = randomUUID();
    await this.rows.insertRun({ runId, model, name: input.runName, params: {}, metrics: {}, tags: { ...input.tags }, startTime: new Date() });
    return { runId, url: null };
  }

  async logRun(
    runId: string,
    data: { params?: Record<string, string | number>; metrics?: Record<string, number>; tags?: Record<string, string> },
  ): Promise<void> {
    const params = Object.entries(data.params ?? {}).map(([k, v]) => [k, String(v)] as const);
    const metrics = finiteMetrics(data.metrics);
    const tags = Object.entries(data.tags ?? {});
    if (params.length === 0 && metrics.length === 0 && tags.length === 0) return;
    const found =
      isUuid(runId) &&
      (await this.rows.updateRecords(runId, (run) => {
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
        return {
          params: { ...run.params, ...Object.fromEntries(params) },
          metrics: { ...run.metrics, ...Object.fromEntries(metrics) },
          tags: { ...run.tags, ...Object.fromEntries(tags) },
        };
      }));
    if (!found) throw noSuchRun('logRun', runId);
  }

  async uploadArtifact(runId: string, path: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    const run = await this.findRun('uploadArtifact', runId);
    await this.blobs.put(artifactKey(run, path), body, contentType);
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const run = await this.findRun('downloadArtifact', runId);
    const key = artifactKey(run, path);
    if (!(await this.blobs.exists(key))) {
      throw new RegistryError('downloadArtifact', 404, 'RESOURCE_DOES_NOT_EXIST', `run ${runId} has no artifact ${path}`);
    }
    return this.blobs.get(key);
  }

  async finishRun(runId: string, status: RegistryRunStatus): Promise<void> {
    if (!isUuid(runId) || !(await this.rows.finishRun(runId, status, new Date()))) throw noSuchRun('finishRun', runId);
  }

  async registerModelVersion(
    model: string,
    runId: string,
    artifactPath: string,
    tags: Record<string, string> = {},
  ): Promise<{ version: string; url: string | null }> {
    const run = await this.findRun('registerModelVersion', runId);
    const version = await this.rows.insertNextVersion(model, { runId, source: artifactKey(run, artifactPath), tags: { ...tags } });
    return { version: String(version), url: null };
  }

  async setAlias(model: string, alias: string, version: string): Promise<void> {
    assertValidAlias('setAlias', alias);
    const number = parseVersion('setAlias', version);
    if (!(await this.rows.setAlias(model, alias, number))) {
      throw new RegistryError('setAlias', 404, 'RESOURCE_DOES_NOT_EXIST', `model ${model} has no version ${version}`);
    }
  }

  async getAlias(model: string, alias: string): Promise<string | null> {
    const found = await this.rows.alias(model, alias);
    return found === null ? null : String(found);
  }

  private async findRun(call: string, runId: string): Promise<IRegistryRun> {
    const run = isUuid(runId) ? await this.rows.run(runId) : null;
    if (!run) throw noSuchRun(call, runId);
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

function noSuchRun(call: string, runId: string): RegistryError {
  return new RegistryError(call, 404, 'RESOURCE_DOES_NOT_EXIST', `run ${runId} does not exist`);
}
