/**
 * Relearn's model registry: where each training is recorded as a run (params, metrics, tags,
 * artifacts) and where trained models become numbered versions that aliases (`champion`, ...)
 * point at. The real adapter is an MLflow tracking server; the embedded default keeps the same
 * information in PostgreSQL and the blob store.
 */

export interface RegistryRun {
  runId: string;
  url: string | null;
}

export type RegistryRunStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export interface ModelRegistry {
  readonly kind: 'mlflow' | 'embedded';
  /** One run per training, in an experiment per task (named e.g. `relearn-<model>`). */
  startRun(model: string, input: { runName: string; tags: Record<string, string> }): Promise<RegistryRun>;
  /** Non-finite metric values are dropped: they are never sent. A param cannot change once set. */
  logRun(runId: string, data: { params?: Record<string, string | number>; metrics?: Record<string, number>; tags?: Record<string, string> }): Promise<void>;
  uploadArtifact(runId: string, path: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** Reads an artifact back. Relearn itself never does (live models load from PostgreSQL): the contract tests check uploads with it. */
  downloadArtifact(runId: string, path: string): Promise<Buffer>;
  finishRun(runId: string, status: RegistryRunStatus): Promise<void>;
  /**
   * Registers the run's artifact at `artifactPath` (e.g. `model`, the directory holding
   * `model/model.json`) as a new version of the registered model `relearn-<model>`; returns the
   * registry's version string.
   */
  registerModelVersion(model: string, runId: string, artifactPath: string, tags?: Record<string, string>): Promise<{ version: string; url: string | null }>;
  setAlias(model: string, alias: string, version: string): Promise<void>;
  /** Where an alias points. Relearn itself never asks (the live version is in PostgreSQL): tests and operators do. */
  getAlias(model: string, alias: string): Promise<string | null>;
}

/** The registry answered with an error: `errorCode` is MLflow's `error_code` (the embedded adapter uses the same codes). */
export class RegistryError extends Error {
  override name = 'RegistryError';

  constructor(
    /** Which call failed, e.g. `POST runs/log-batch` or `setAlias`. */
    readonly call: string,
    /** The HTTP status, or null when no answer came back. */
    readonly status: number | null,
    readonly errorCode: string,
    readonly registryMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`model registry: ${call} failed${status === null ? '' : ` (HTTP ${status})`}: ${errorCode}: ${registryMessage}`, options);
  }
}

/** The registry could not be reached at all (down, refused, timed out): worth retrying later. */
export class RegistryUnavailableError extends RegistryError {
  override name = 'RegistryUnavailableError';

  constructor(
    call: string,
    readonly url: string,
    reason: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(call, options?.status ?? null, 'UNAVAILABLE', `the MLflow server at ${url} is unreachable: ${reason}`, options);
  }
}

/** Artifact paths are relative and stay inside the run: `model/model.json`, never `../x` or `/x`. */
export function normaliseArtifactPath(path: string): string {
  const parts = path.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0 || parts.some((s) => s === '..') || path.startsWith('/') || path.includes('\\')) {
    throw new RegistryError('artifact path', null, 'INVALID_PARAMETER_VALUE', `invalid artifact path ${JSON.stringify(path)}`);
  }
  return parts.join('/');
}

/** Aliases MLflow refuses (`latest`, `v<digits>`), refused by both adapters alike. */
export function assertValidAlias(call: string, alias: string): void {
  if (!/^[A-Za-z0-9_\-.]{1,255}$/.test(alias) || alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    throw new RegistryError(call, 400, 'INVALID_PARAMETER_VALUE', `invalid alias ${JSON.stringify(alias)}`);
  }
}

/** Metric values the registry can hold: finite numbers only (JSON has no NaN, MLflow rejects it). */
export function finiteMetrics(metrics: Record<string, number> | undefined): [string, number][] {
  return Object.entries(metrics ?? {}).filter(([, v]) => typeof v === 'number' && Number.isFinite(v));
}
