import {
  RegistryError,
  RegistryUnavailableError,
  assertValidAlias,
  finiteMetrics,
  normaliseArtifactPath,
  type ModelRegistry,
  type RegistryRun,
  type RegistryRunStatus,
} from './model-registry.js';
import { PromiseCache } from '../shared/promise-cache.js';

export interface MlflowRegistryOptions {
  /** Experiments and registered models are named `<prefix><model>`; default `relearn-`. */
  experimentPrefix?: string;
  /** Each request (artifacts included) is abandoned after this long; default 30 s. */
  fetchTimeoutMs?: number;
}

// Documented limits of one runs/log-batch request.
const MAX_BATCH_METRICS = 1000;
const MAX_BATCH_PARAMS = 100;
const MAX_BATCH_TAGS = 100;
const MAX_BATCH_ENTITIES = 1000;

interface RunInfo {
  run_id: string;
  experiment_id: string;
  artifact_uri: string;
}

interface KeyValue {
  key: string;
  value: string;
}

const keyValues = (record: Record<string, string | number> | undefined): KeyValue[] =>
  Object.entries(record ?? {}).map(([key, value]) => ({ key, value: String(value) }));

/** The MLflow tracking server and model registry, over its REST API (2.0 endpoints, MLflow 3.x). */
export class MlflowRegistry implements ModelRegistry {
  readonly kind = 'mlflow';
  private readonly base: string;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  /** Looked up once per process; a failure is not remembered, the next training tries again. */
  private readonly experiments = new PromiseCache<string, string>();
  private readonly registeredModels = new PromiseCache<string, void>();
  private readonly runs = new Map<string, RunInfo>();

  constructor(trackingUri: string, options: MlflowRegistryOptions = {}) {
    this.base = trackingUri.replace(/\/+$/, '');
    this.prefix = options.experimentPrefix ?? 'relearn-';
    this.timeoutMs = options.fetchTimeoutMs ?? 30_000;
  }

  /** The experiment and registered-model name of a task. */
  nameOf(model: string): string {
    return `${this.prefix}${model}`;
  }

  async startRun(model: string, input: { runName: string; tags: Record<string, string> }): Promise<RegistryRun> {
    const experimentId = await this.experimentId(model);
    const { run } = await this.api<{ run: { info: RunInfo } }>('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: input.runName,
      start_time: Date.now(),
      tags: keyValues(input.tags),
    });
    this.runs.set(run.info.run_id, run.info);
    return { runId: run.info.run_id, url: `${this.base}/#/experiments/${experimentId}/runs/${run.info.run_id}` };
  }

  async logRun(
    runId: string,
    data: { params?: Record<string, string | number>; metrics?: Record<string, number>; tags?: Record<string, string> },
  ): Promise<void> {
    const timestamp = Date.now();
    const params = keyValues(data.params);
    const tags = keyValues(data.tags);
    const metrics = finiteMetrics(data.metrics).map(([key, value]) => ({ key, value, timestamp, step: 0 }));
    while (params.length > 0 || tags.length > 0 || metrics.length > 0) {
      const batchParams = params.splice(0, MAX_BATCH_PARAMS);
      const batchTags = tags.splice(0, MAX_BATCH_TAGS);
      const room = Math.min(MAX_BATCH_METRICS, MAX_BATCH_ENTITIES - batchParams.length - batchTags.length);
      const batchMetrics = metrics.splice(0, room);
      await this.api('POST', 'runs/log-batch', { run_id: runId, params: batchParams, tags: batchTags, metrics: batchMetrics });
    }
  }

  async uploadArtifact(runId: string, path: string, body: string | Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    const url = await this.artifactUrl(runId, path);
    const res = await this.send('PUT mlflow-artifacts', url, {
      method: 'PUT',
      headers: { 'Content-Type': contentType },
      body: body as string | Uint8Array<ArrayBuffer>,
    });
    if (!res.ok) throw await this.failure('PUT mlflow-artifacts', res);
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const url = await this.artifactUrl(runId, path);
    const res = await this.send('GET mlflow-artifacts', url, { method: 'GET' });
    if (!res.ok) {
      const error = await this.failure('GET mlflow-artifacts', res);
      // With S3 behind the proxy a missing artifact is a 500, not a 404: ask the listing to tell them apart.
      if (res.status >= 500 && !(error instanceof RegistryUnavailableError) && !(await this.artifactExists(runId, path))) {
        throw new RegistryError('GET mlflow-artifacts', 404, 'RESOURCE_DOES_NOT_EXIST', `run ${runId} has no artifact ${path}`, { cause: error });
      }
      throw error;
    }
    return Buffer.from(await this.read('GET mlflow-artifacts', url, () => res.arrayBuffer()));
  }

  private async artifactExists(runId: string, path: string): Promise<boolean> {
    const { root, relative } = await this.artifactRoot(runId, path);
    const parts = relative.split('/');
    const name = parts.pop();
    const dir = [root, ...parts].join('/');
    const url = `${this.base}/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path: dir })}`;
    const res = await this.send('GET mlflow-artifacts list', url, { method: 'GET' });
    if (!res.ok) throw await this.failure('GET mlflow-artifacts list', res);
    const { files = [] } = await this.read('GET mlflow-artifacts list', url, () => res.json() as Promise<{ files?: { path: string; is_dir: boolean }[] }>);
    return files.some((f) => !f.is_dir && f.path.split('/').pop() === name);
  }

  async finishRun(runId: string, status: RegistryRunStatus): Promise<void> {
    await this.api('POST', 'runs/update', { run_id: runId, status, end_time: Date.now() });
  }

  async registerModelVersion(
    model: string,
    runId: string,
    artifactPath: string,
    tags: Record<string, string> = {},
  ): Promise<{ version: string; url: string | null }> {
    const name = this.nameOf(model);
    const run = await this.runInfo(runId);
    await this.ensureRegisteredModel(name);
    // The server does not resolve `runs:/` URIs: send the run's resolved artifact location.
    const source = `${run.artifact_uri.replace(/\/+$/, '')}/${normaliseArtifactPath(artifactPath)}`;
    const { model_version } = await this.api<{ model_version: { version: string } }>('POST', 'model-versions/create', {
      name,
      source,
      run_id: runId,
      tags: keyValues(tags),
    });
    const version = String(model_version.version);
    return { version, url: `${this.base}/#/models/${encodeURIComponent(name)}/versions/${version}` };
  }

  async setAlias(model: string, alias: string, version: string): Promise<void> {
    assertValidAlias('POST registered-models/alias', alias);
    await this.api('POST', 'registered-models/alias', { name: this.nameOf(model), alias, version });
  }

  async getAlias(model: string, alias: string): Promise<string | null> {
    try {
      const { model_version } = await this.api<{ model_version: { version: string } }>('GET', 'registered-models/alias', {
        name: this.nameOf(model),
        alias,
      });
      return String(model_version.version);
    } catch (error) {
      if (error instanceof RegistryError && isMissingAlias(error)) return null;
      throw error;
    }
  }

  private experimentId(model: string): Promise<string> {
    const name = this.nameOf(model);
    return this.experiments.get(name, () => this.getOrCreateExperiment(name));
  }

  private async getOrCreateExperiment(name: string): Promise<string> {
    const existing = await this.findExperiment(name);
    if (existing) return existing;
    try {
      const { experiment_id } = await this.api<{ experiment_id: string }>('POST', 'experiments/create', { name });
      return experiment_id;
    } catch (error) {
      // Another process created it between our get and create.
      if (error instanceof RegistryError && error.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const raced = await this.findExperiment(name);
        if (raced) return raced;
      }
      throw error;
    }
  }

  private async findExperiment(name: string): Promise<string | null> {
    try {
      const { experiment } = await this.api<{ experiment: { experiment_id: string; lifecycle_stage: string } }>('GET', 'experiments/get-by-name', {
        experiment_name: name,
      });
      // Deleted in the UI: the name stays taken and runs cannot be created in it until it is restored.
      if (experiment.lifecycle_stage === 'deleted') await this.api('POST', 'experiments/restore', { experiment_id: experiment.experiment_id });
      return experiment.experiment_id;
    } catch (error) {
      if (error instanceof RegistryError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw error;
    }
  }

  private ensureRegisteredModel(name: string): Promise<void> {
    return this.registeredModels.get(name, () =>
      this.api('POST', 'registered-models/create', { name }).then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof RegistryError && error.errorCode === 'RESOURCE_ALREADY_EXISTS') return;
          throw error;
        },
      ),
    );
  }

  private async runInfo(runId: string): Promise<RunInfo> {
    const cached = this.runs.get(runId);
    if (cached) return cached;
    const { run } = await this.api<{ run: { info: RunInfo } }>('GET', 'runs/get', { run_id: runId });
    this.runs.set(runId, run.info);
    return run.info;
  }

  /** `mlflow-artifacts:/<exp>/<run>/artifacts` + path, as a URL of the server's artifact proxy. */
  private async artifactUrl(runId: string, path: string): Promise<string> {
    const { root, relative } = await this.artifactRoot(runId, path);
    const segments = [...root.split('/'), ...relative.split('/')].map(encodeURIComponent);
    return `${this.base}/api/2.0/mlflow-artifacts/artifacts/${segments.join('/')}`;
  }

  /** The run's artifact root as the proxy names it (`<exp>/<run>/artifacts`), and the checked relative path. */
  private async artifactRoot(runId: string, path: string): Promise<{ root: string; relative: string }> {
    const relative = normaliseArtifactPath(path);
    const { artifact_uri: uri } = await this.runInfo(runId);
    if (!uri.startsWith('mlflow-artifacts:')) {
      throw new RegistryError(
        'artifact location',
        null,
        'ARTIFACTS_NOT_PROXIED',
        `run ${runId} stores artifacts at ${uri}, not through the server (mlflow-artifacts:/): start mlflow server with --artifacts-destination and without --default-artifact-root`,
      );
    }
    return { root: new URL(uri).pathname.replace(/^\/+|\/+$/g, ''), relative };
  }

  private async api<T = unknown>(method: 'GET' | 'POST', endpoint: string, payload: Record<string, unknown>): Promise<T> {
    const call = `${method} ${endpoint}`;
    let url = `${this.base}/api/2.0/mlflow/${endpoint}`;
    const init: RequestInit = { method };
    if (method === 'GET') {
      url += `?${new URLSearchParams(Object.entries(payload).map(([k, v]) => [k, String(v)]))}`;
    } else {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(payload);
    }
    const res = await this.send(call, url, init);
    if (!res.ok) throw await this.failure(call, res);
    return (await this.read(call, url, () => res.json())) as T;
  }

  private async send(call: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw this.unreachable(call, error);
    }
  }

  /** Reads a body under the same timeout: a server that stalls mid-answer is as unavailable as one that is down. */
  private async read<T>(call: string, url: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof SyntaxError) throw new RegistryError(call, null, 'BAD_RESPONSE', `${url} did not answer JSON`, { cause: error });
      throw this.unreachable(call, error);
    }
  }

  private unreachable(call: string, error: unknown): RegistryUnavailableError {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    const reason =
      err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message ?? String(error));
    return new RegistryUnavailableError(call, this.base, reason, { cause: error });
  }

  private async failure(call: string, res: Response): Promise<RegistryError> {
    const text = await res.text().catch(() => '');
    // Gateways in front of MLflow say it is down this way.
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      return new RegistryUnavailableError(call, this.base, `HTTP ${res.status} ${text.slice(0, 200)}`.trim(), { status: res.status });
    }
    let errorCode = `HTTP_${res.status}`;
    let message = text.slice(0, 500) || res.statusText;
    try {
      const body = JSON.parse(text) as { error_code?: string; message?: string };
      if (body.error_code) errorCode = body.error_code;
      if (body.message) message = body.message;
    } catch {
      // Not JSON (a proxy's page, the host check's plain text): keep the text.
    }
    if (res.status === 403)
      message += ` (MLflow 3.5+ refuses Host headers it does not know: start it with --allowed-hosts including ${new URL(this.base).host})`;
    return new RegistryError(call, res.status, errorCode, message);
  }
}

/**
 * An unknown model answers 404 RESOURCE_DOES_NOT_EXIST, but an unknown alias of a known model
 * answers 400 INVALID_PARAMETER_VALUE "Registered model alias X not found." (MLflow 3.x).
 */
function isMissingAlias(error: RegistryError): boolean {
  return error.status === 404 || (error.errorCode === 'INVALID_PARAMETER_VALUE' && /alias .* not found/i.test(error.registryMessage));
}
