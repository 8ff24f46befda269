import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { MlflowRegistry } from './mlflow-registry.js';
import { itBehavesLikeAModelRegistry, aModelName, type StoredRun } from './model-registry.contract.js';
import { RegistryUnavailableError } from './model-registry.js';
import type {} from '../../test/global-setup.js'; // the ProvidedContext declaration for inject()

/** The real MLflow server of this test run: global setup's, else MLFLOW_TRACKING_URI. Never skipped. */
function mlflowUrl(): string {
  const url = inject('mlflowUrl') || process.env.MLFLOW_TRACKING_URI;
  if (!url) {
    throw new Error('No MLflow server for the registry tests: global setup provided no `mlflowUrl` and MLFLOW_TRACKING_URI is unset');
  }
  return url.replace(/\/+$/, '');
}

interface MlflowRunJson {
  info: { run_name: string; status: string; end_time?: string | number; experiment_id: string };
  data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[]; tags?: { key: string; value: string }[] };
}

describe(MlflowRegistry.name, () => {
  let baseUrl: string;
  let sut: MlflowRegistry;
  // A prefix of its own, so that versions start at 1 on a server earlier runs have used.
  const prefix = `relearn-test-${randomBytes(3).toString('hex')}-`;

  const mlflow = async <T>(endpoint: string, query: Record<string, string>): Promise<T> => {
    const res = await fetch(`${baseUrl}/api/2.0/mlflow/${endpoint}?${new URLSearchParams(query)}`);
    expect(res.status, `${endpoint}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as T;
  };

  const readRun = async (runId: string): Promise<StoredRun> => {
    const { run } = await mlflow<{ run: MlflowRunJson }>('runs/get', { run_id: runId });
    const record = <V>(list: { key: string; value: V }[] | undefined) => Object.fromEntries((list ?? []).map((e) => [e.key, e.value]));
    return {
      name: run.info.run_name,
      status: run.info.status,
      params: record(run.data.params),
      metrics: record(run.data.metrics),
      tags: record(run.data.tags),
      ended: run.info.end_time !== undefined && run.info.end_time !== null,
    };
  };

  beforeAll(async () => {
    baseUrl = mlflowUrl();
    sut = new MlflowRegistry(baseUrl, { experimentPrefix: prefix, fetchTimeoutMs: 10_000 });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  itBehavesLikeAModelRegistry(() => ({ sut, readRun }));

  it('puts runs in the experiment `<prefix><model>` and links to them in the MLflow UI', async () => {
    const model = aModelName();
    const run = await sut.startRun(model, { runName: 'ui', tags: {} });
    const { experiment } = await mlflow<{ experiment: { experiment_id: string } }>('experiments/get-by-name', { experiment_name: `${prefix}${model}` });
    expect(run.url).toBe(`${baseUrl}/#/experiments/${experiment.experiment_id}/runs/${run.runId}`);
  });

  it('creates the experiment once when two registries start the first runs of a model at the same time', async () => {
    const model = aModelName();
    const other = new MlflowRegistry(baseUrl, { experimentPrefix: prefix });
    const runs = await Promise.all([sut.startRun(model, { runName: 'a', tags: {} }), other.startRun(model, { runName: 'b', tags: {} })]);
    const experiments = await Promise.all(
      runs.map(async (r) => (await mlflow<{ run: MlflowRunJson }>('runs/get', { run_id: r.runId })).run.info.experiment_id),
    );
    expect(experiments[0]).toBe(experiments[1]);
  });

  it('registers the resolved mlflow-artifacts source of the run, with the run id and tags, and links to the version', async () => {
    const model = aModelName();
    const run = await sut.startRun(model, { runName: 'source', tags: {} });
    await sut.uploadArtifact(run.runId, 'model/model.json', '{}', 'application/json');
    const registered = await sut.registerModelVersion(model, run.runId, 'model', { trigger: 'drift' });
    const { model_version } = await mlflow<{ model_version: { source: string; run_id: string; tags?: { key: string; value: string }[] } }>(
      'model-versions/get',
      { name: `${prefix}${model}`, version: registered.version },
    );
    const { run: stored } = await mlflow<{ run: MlflowRunJson }>('runs/get', { run_id: run.runId });
    expect(model_version.source).toBe(`mlflow-artifacts:/${stored.info.experiment_id}/${run.runId}/artifacts/model`);
    expect(model_version.run_id).toBe(run.runId);
    expect(model_version.tags).toEqual([{ key: 'trigger', value: 'drift' }]);
    expect(registered.url).toBe(`${baseUrl}/#/models/${prefix}${model}/versions/${registered.version}`);
  });

  it('never sends a NaN or infinite metric value to MLflow', async () => {
    const run = await sut.startRun(aModelName(), { runName: 'nan-wire', tags: {} });
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    await sut.logRun(run.runId, { metrics: { ok: 1, nan: Number.NaN, inf: Number.POSITIVE_INFINITY }, params: { a: Number.NaN } });
    await sut.logRun(run.runId, { metrics: { nan: Number.NaN } });
    const sent = fetchSpy.mock.calls.map(([, init]) => JSON.parse(String(init?.body)) as { metrics: { key: string; value: unknown }[] });
    expect(sent.flatMap((b) => b.metrics)).toEqual([expect.objectContaining({ key: 'ok', value: 1 })]);
    // A batch with nothing left in it is not sent at all.
    expect(sent).toHaveLength(1);
  });

  describe('when MLflow cannot be reached', () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    let silentPort = 0;
    let deadPort = 0;

    beforeAll(async () => {
      // A port nobody listens on: connections are refused.
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      deadPort = (probe.address() as { port: number }).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      // A server that accepts connections and never answers: only the timeout ends the request.
      silent = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as { port: number }).port;
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent?.close(() => resolve()));
    });

    it('fails with RegistryUnavailableError naming the URL when the port is closed', async () => {
      const dead = new MlflowRegistry(`http://127.0.0.1:${deadPort}`, { fetchTimeoutMs: 1_000 });
      const error = await dead.startRun('fraud', { runName: 'x', tags: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryUnavailableError);
      expect((error as Error).message).toContain(`http://127.0.0.1:${deadPort}`);
      expect(error).toMatchObject({ url: `http://127.0.0.1:${deadPort}`, call: 'GET experiments/get-by-name' });
    });

    it('gives up after fetchTimeoutMs when the server never answers', async () => {
      const stalled = new MlflowRegistry(`http://127.0.0.1:${silentPort}`, { fetchTimeoutMs: 300 });
      const error = await stalled.getAlias('fraud', 'champion').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryUnavailableError);
      // The registry's own timeout ended it (a hang would fail the test by its timeout, not here).
      expect((error as Error).message).toMatch(/no answer within 300 ms/);
    });
  });
});
