import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskDefinition } from '../tasks/task-definition.js';
import { withBootstrapFitCache } from './bootstrap-fit-cache.js';
import type { FittedModel } from './train.js';
import type { SnapshotMessage, TrainingCallbacks, TrainingRequest } from './train-in-worker.js';

// The cache reads a request only to key it: any definition will do.
const definition = { name: 'fraud', labels: ['legit', 'fraud'] } as unknown as TaskDefinition;
const dataset: SnapshotMessage = {
  jsonl: new TextEncoder().encode('{"input":{},"label":"a","source":"bootstrap"}\n'),
  contentHash: 'sha256:abc',
  rowCount: 1,
  labelCounts: { a: 1 },
  trainRows: 1,
  holdoutRows: 0,
  droppedRows: 0,
  dropped: { invalid: 0, outlier: 0, duplicate: 0, window: 0 },
  sources: ['bootstrap'],
  feedbackIdRange: null,
};
const fitted = { artifact: { format: 3, n: 1 }, challenger: { holdout: { accuracy: 1 } }, champion: null } as unknown as FittedModel;

/** A fit that sends what the worker sends, counting its calls; it moves the dataset's bytes as a worker would. */
function countingFit() {
  const fit = async (_request: TrainingRequest, callbacks: TrainingCallbacks) => {
    fit.calls++;
    const sent = { ...dataset, jsonl: dataset.jsonl.slice() };
    await callbacks.onSnapshot(sent);
    sent.jsonl.fill(0); // the bytes are gone once handed over
    callbacks.onStep('TRAINING');
    callbacks.onStep('EVALUATING');
    return structuredClone(fitted);
  };
  fit.calls = 0;
  return fit;
}

function recorder() {
  const seen: { datasets: SnapshotMessage[]; steps: string[] } = { datasets: [], steps: [] };
  const callbacks: TrainingCallbacks = {
    onSnapshot: async (d) => void seen.datasets.push({ ...d, jsonl: d.jsonl.slice() }),
    onStep: (s) => void seen.steps.push(s),
  };
  return { seen, callbacks };
}

describe('the bootstrap fit cache of test runs', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'fit-cache-test-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('fits a bootstrap once; the next gets the same dataset, steps and model without fitting', async () => {
    const fit = countingFit();
    const cached = withBootstrapFitCache(fit, dir);
    const request: TrainingRequest = { definition, recentRows: 100, kind: 'bootstrap' };
    const first = recorder();
    expect(await cached(request, first.callbacks)).toEqual(fitted);
    const second = recorder();
    expect(await cached(request, second.callbacks)).toEqual(fitted);
    expect(fit.calls).toBe(1);
    expect(second.seen).toEqual(first.seen);
    expect(second.seen.datasets[0]!.jsonl).toEqual(dataset.jsonl);
    expect(second.seen.steps).toEqual(['TRAINING', 'EVALUATING']);
    // Nothing half-written is left behind.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keys by the whole request, and never caches a retrain', async () => {
    const fit = countingFit();
    const cached = withBootstrapFitCache(fit, dir);
    await cached({ definition, recentRows: 100, kind: 'bootstrap' }, recorder().callbacks);
    await cached({ definition, recentRows: 200, kind: 'bootstrap' }, recorder().callbacks);
    expect(fit.calls).toBe(2);
    const retrain = { definition, recentRows: 100, kind: 'retrain', parentJsonl: null, feedback: [], championArtifact: null } as unknown as TrainingRequest;
    await cached(retrain, recorder().callbacks);
    await cached(retrain, recorder().callbacks);
    expect(fit.calls).toBe(4);
  });
});
