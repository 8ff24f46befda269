import { describe, expect, it } from 'vitest';
import type { Metrics, ModelInfo, RetrainJob } from '../graphql/types.js';
import { AdminTokenState } from './admin-token.svelte.js';
import { ConnectionState } from './connection.svelte.js';
import { MetricsHistory } from './metrics-history.svelte.js';
import { ModelSelection } from './model-selection.svelte.js';
import { RetrainTracker, isFinished, retrainProgress, stepLabel } from './retrain-tracker.svelte.js';

const metrics = (over: Partial<Metrics> = {}): Metrics => ({
  model: 'fraud',
  accuracy: 0.9,
  precision: 0.8,
  recall: 0.7,
  f1: 0.75,
  feedbackShare: 0.5,
  predictionCount: 10,
  feedbackCount: 5,
  confusion: { tp: 1, tn: 3, fp: 1, fn: 0 },
  accuracyInterval: null,
  liveVersion: null,
  ...over,
});
const job = (over: Partial<RetrainJob> = {}): RetrainJob => ({
  id: 'job-1',
  model: 'fraud',
  state: 'QUEUED',
  progress: 0,
  message: null,
  reason: 'manual',
  version: null,
  attempts: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  ...over,
});
const model = (name: string): ModelInfo => ({
  name,
  description: '',
  experimental: null,
  labels: ['a', 'b'],
  positiveLabel: 'a',
  inputType: 'X',
  features: [],
  liveVersion: null,
  retrainPolicy: { afterFeedback: 500, minAccuracy: 0.85, window: 200, minSamples: 50, cooldownSeconds: 300, promotionMargin: 0.01 },
});

describe(ConnectionState.name, () => {
  it('says connecting before the first connection and reconnecting after a close', () => {
    const sut = new ConnectionState();
    expect([sut.status, sut.label]).toEqual(['connecting', 'Connecting…']);
    sut.closed();
    expect(sut.status).toBe('connecting');
    sut.connected(123);
    expect([sut.status, sut.label, sut.connectedAt]).toEqual(['connected', 'Live', 123]);
    sut.closed();
    expect([sut.status, sut.label]).toEqual(['reconnecting', 'Reconnecting…']);
    sut.connecting();
    expect(sut.status).toBe('reconnecting');
  });
});

describe(AdminTokenState.name, () => {
  it('keeps the token in the given storage and forgets it', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    const sut = new AdminTokenState(storage);
    expect(sut.present).toBe(false);
    sut.set('  secret ');
    expect([sut.value, sut.present, store.get('relearn.adminToken')]).toEqual(['secret', true, 'secret']);
    expect(new AdminTokenState(storage).value).toBe('secret');
    sut.clear();
    expect([sut.present, store.size]).toEqual([false, 0]);
  });
});

describe(ModelSelection.name, () => {
  it('picks the preferred model when it exists, else the first, and keeps a choice across reloads', () => {
    const sut = new ModelSelection();
    sut.load([model('fraud'), model('spam')], 'spam');
    expect(sut.selected?.name).toBe('spam');
    sut.select('nope');
    expect(sut.name).toBe('spam');
    sut.select('fraud');
    sut.load([model('fraud'), model('spam')], 'spam');
    expect(sut.selected?.name).toBe('fraud');
    const fresh = new ModelSelection();
    fresh.load([model('fraud')], 'missing');
    expect(fresh.name).toBe('fraud');
  });

  it('follows a version made live elsewhere, so the picker never names a stale one', () => {
    const sut = new ModelSelection();
    sut.load([{ ...model('fraud'), liveVersion: { version: 1, belowThreshold: null } }, model('spam')]);
    sut.setLive('fraud', 2);
    expect(sut.models.map((m) => m.liveVersion?.version ?? null)).toEqual([2, null]);
  });
});

describe(MetricsHistory.name, () => {
  it('adds a point per change, ignores pushes that change nothing, and caps the series', () => {
    const sut = new MetricsHistory(3);
    sut.push(metrics(), 1);
    sut.push(metrics({ predictionCount: 11 }), 2);
    expect(sut.points).toHaveLength(1);
    expect(sut.current?.predictionCount).toBe(11);
    sut.push(metrics({ feedbackCount: 6, accuracy: 0.8 }), 3);
    sut.push(metrics({ feedbackCount: 7, accuracy: 0.85 }), 4);
    sut.push(metrics({ feedbackCount: 8, accuracy: 0.875 }), 5);
    expect(sut.points.map((p) => p.at)).toEqual([3, 4, 5]);
    expect(sut.points.at(-1)).toMatchObject({ accuracy: 0.875, feedbackCount: 8 });
  });

  it('starts over for another model', () => {
    const sut = new MetricsHistory();
    sut.push(metrics(), 1);
    sut.push(metrics({ model: 'spam', accuracy: 0.5 }), 2);
    expect(sut.points).toEqual([expect.objectContaining({ at: 2, accuracy: 0.5 })]);
  });
});

describe('retrain progress', () => {
  it('maps each step to a share of the bar, never behind the server progress, full when finished', () => {
    expect(retrainProgress(job({ state: 'QUEUED' }))).toBe(0);
    expect(retrainProgress(job({ state: 'SNAPSHOTTING', progress: 0.01 }))).toBe(0.2);
    expect(retrainProgress(job({ state: 'TRAINING', progress: 0.55 }))).toBe(0.55);
    expect(retrainProgress(job({ state: 'EVALUATING', progress: 0.3 }))).toBe(0.6);
    expect(retrainProgress(job({ state: 'REGISTERING', progress: 0.3 }))).toBe(0.8);
    for (const state of ['PROMOTED', 'REJECTED', 'FAILED'] as const) {
      expect(retrainProgress(job({ state, progress: 0.2 }))).toBe(1);
      expect(isFinished(state)).toBe(true);
    }
    expect(isFinished('TRAINING')).toBe(false);
    expect(stepLabel('REJECTED')).toBe('Rejected by the promotion gate');
  });
});

describe(RetrainTracker.name, () => {
  it('follows a job through its steps, then the next job that starts', () => {
    const sut = new RetrainTracker();
    sut.load([job({ id: 'old', state: 'PROMOTED', createdAt: '2025-01-01T00:00:00Z' })]);
    expect(sut.followed).toBeNull();
    sut.update(job({ id: 'new', state: 'QUEUED' }));
    expect([sut.followed?.id, sut.running, sut.progress]).toEqual(['new', true, 0]);
    sut.update(job({ id: 'new', state: 'TRAINING', progress: 0.5 }));
    expect(sut.progress).toBe(0.5);
    sut.update(job({ id: 'new', state: 'REJECTED', progress: 1, message: 'worse than the champion' }));
    expect([sut.running, sut.progress, sut.followed?.message]).toEqual([false, 1, 'worse than the champion']);
    expect(sut.jobs.map((j) => j.id)).toEqual(['new', 'old']);
    sut.update(job({ id: 'third', state: 'QUEUED', createdAt: '2026-02-01T00:00:00Z' }));
    expect(sut.followedId).toBe('third');
  });
});
