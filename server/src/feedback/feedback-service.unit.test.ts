import { beforeEach, describe, expect, it } from 'vitest';
import { DomainEvents, type DomainEventMap } from '../events/domain-events.js';
import type { ModelService } from '../models/model-service.js';
import type { PredictionService } from '../predictions/prediction-service.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import { TaskRegistry } from '../tasks/task-registry.js';
import { TrustGate } from '../trust/trust-gate.js';
import { FeedbackService } from './feedback-service.js';
import type { FeedbackRepository, NewFeedback } from './feedback.repository.js';
import type { FeedbackRecord } from './feedback.types.js';
import type { AppError } from '../shared/app-error.js';

const PREDICTION: PredictionRecord = {
  id: '5b0c6f1e-8f3a-4c1e-9a57-2f7d7c1b9e01',
  model: 'fraud',
  modelVersionId: 11,
  version: 3,
  input: { amount: 10 },
  label: 'fraud',
  probability: 0.9,
  scores: [],
  latencyMs: 1,
  createdAt: new Date(0),
};

/** The feedback table, in memory: unique prediction ids and idempotency keys, ids from a sequence. */
class InMemoryFeedback {
  readonly rows: FeedbackRecord[] = [];
  async insertMany(batch: readonly NewFeedback[]) {
    const results = batch.map((row) => {
      const taken = this.rows.some(
        (r) => (row.predictionId !== null && r.predictionId === row.predictionId) || (row.idempotencyKey !== null && r.idempotencyKey === row.idempotencyKey),
      );
      if (taken) return null;
      const { kind: _kind, inputKey: _inputKey, ...fields } = row;
      const stored: FeedbackRecord = {
        ...fields,
        review: null,
        retractedAt: null,
        id: this.rows.length + 1,
        createdAt: new Date(0),
        xid: String(100 + this.rows.length),
      };
      this.rows.push(stored);
      return stored;
    });
    return { results, inserted: results.filter((r): r is FeedbackRecord => r !== null) };
  }
  async findConflicting(row: NewFeedback) {
    return (
      this.rows.find((r) => row.idempotencyKey !== null && r.idempotencyKey === row.idempotencyKey) ??
      this.rows.find((r) => row.predictionId !== null && r.predictionId === row.predictionId) ??
      null
    );
  }
}

describe(FeedbackService.name, () => {
  let sut: FeedbackService;
  let table: InMemoryFeedback;
  let published: { [K in keyof DomainEventMap]?: DomainEventMap[K][] };
  let learned: { model: string; id: number; label: string }[];

  beforeEach(async () => {
    const tasks = await TaskRegistry.load();
    table = new InMemoryFeedback();
    learned = [];
    const events = new DomainEvents({ error: () => {} } as never);
    published = {};
    events.on('feedbackRecorded', (e) => void (published.feedbackRecorded ??= []).push(e));
    events.on('feedbackBatchCommitted', (e) => void (published.feedbackBatchCommitted ??= []).push(e));
    const predictions = { get: async (id: string) => (id === PREDICTION.id ? PREDICTION : null) } as unknown as PredictionService;
    const models = {
      learn: (model: string, row: { id: number }, _input: unknown, label: string) => void learned.push({ model, id: row.id, label }),
      version: async (_model: string, version: number) => (version === 3 ? { id: 11 } : null),
    } as unknown as ModelService;
    // The gate itself is tested through the API (trust/trust-gate.test.ts); here every source is trusted.
    const gate = new TrustGate(
      { recentAgainst: async () => 0, agreementWithTrusted: async () => ({ agree: 0, disagree: 0 }) },
      {
        trustedSources: ['anonymous'],
        minEvidence: 30,
        minAgreement: 0.9,
      },
    );
    sut = new FeedbackService(table as unknown as FeedbackRepository, tasks, predictions, models, events, gate);
  });

  it('stores the feedback, says what happened once, and teaches the live model', async () => {
    const f = await sut.recordFeedback({ predictionId: PREDICTION.id, correct: false });
    expect(f).toMatchObject({ model: 'fraud', predicted: 'fraud', actual: 'legit', correct: false, modelVersionId: 11 });
    expect(published.feedbackRecorded).toEqual([{ feedback: f, version: 3 }]);
    expect(published.feedbackBatchCommitted).toEqual([{ model: 'fraud', from: f.id, to: f.id }]);
    expect(learned).toEqual([{ model: 'fraud', id: f.id, label: 'legit' }]);
  });

  it('a retry returns the stored feedback and publishes nothing more; a different answer is a conflict', async () => {
    const first = await sut.recordFeedback({ predictionId: PREDICTION.id, actual: 'fraud', idempotencyKey: 'k1' });
    expect(await sut.recordFeedback({ predictionId: PREDICTION.id, actual: 'fraud', idempotencyKey: 'k1' })).toEqual(first);
    await expect(sut.recordFeedback({ predictionId: PREDICTION.id, actual: 'legit' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(published.feedbackRecorded).toHaveLength(1);
    expect(learned).toHaveLength(1);
    expect(table.rows).toHaveLength(1);
  });

  it('outcomes count (feedbackRecorded with their version) but teach no model and announce no learning range', async () => {
    const out = await sut.recordOutcomes(
      'fraud',
      [
        { predicted: 'fraud', actual: 'fraud' },
        { predicted: 'legit', actual: 'fraud' },
      ],
      3,
    );
    expect(out.map((o) => o.correct)).toEqual([true, false]);
    expect(published.feedbackRecorded?.map((e) => e.version)).toEqual([3, 3]);
    expect(published.feedbackBatchCommitted).toBeUndefined();
    expect(learned).toEqual([]);
  });

  it('refuses bad input naming the field, before any row is written', async () => {
    const refused = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as AppError).problems?.[0]?.field;
    expect(await refused(sut.recordFeedback({ predictionId: 'not-a-uuid', correct: true }))).toBe('predictionId');
    expect(await refused(sut.recordFeedback({ predictionId: PREDICTION.id, correct: true, actual: 'fraud' }))).toBe('correct');
    expect(await refused(sut.recordFeedback({ predictionId: PREDICTION.id, actual: 'maybe' }))).toBe('actual');
    expect(await refused(sut.recordOutcomes('fraud', []))).toBe('outcomes');
    expect(table.rows).toEqual([]);
    expect(published).toEqual({});
  });
});
