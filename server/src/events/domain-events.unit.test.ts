import { describe, expect, it } from 'vitest';
import type { FeedbackRecord } from '../feedback/feedback.types.js';
import { DomainEvents } from './domain-events.js';

const feedback: FeedbackRecord = {
  id: 1,
  model: 'fraud',
  predictionId: null,
  modelVersionId: null,
  predicted: 'fraud',
  actual: 'legit',
  correct: false,
  idempotencyKey: null,
  source: 'anonymous',
  endUserId: null,
  quarantined: false,
  quarantineReason: null,
  review: null,
  retractedAt: null,
  createdAt: new Date(0),
  xid: '1',
};

function sutWithLog() {
  const logged: unknown[] = [];
  return { sut: new DomainEvents({ error: (obj: unknown) => void logged.push(obj) } as never), logged };
}

describe(DomainEvents.name, () => {
  it('runs every follower synchronously, in subscription order, with the payload', () => {
    const { sut } = sutWithLog();
    const seen: string[] = [];
    sut.on('feedbackRecorded', ({ feedback: f, version }) => seen.push(`a:${f.id}:${version}`));
    sut.on('feedbackRecorded', ({ feedback: f }) => seen.push(`b:${f.model}`));
    sut.on('retrainStarted', ({ model }) => seen.push(`other:${model}`));
    sut.emit('feedbackRecorded', { feedback, version: 3 });
    // Synchronous: followed before emit returns (a request answers after its counters moved).
    expect(seen).toEqual(['a:1:3', 'b:fraud']);
  });

  it('a follower that throws is logged and neither fails the publisher nor skips the others', () => {
    const { sut, logged } = sutWithLog();
    const seen: string[] = [];
    sut.on('retrainStarted', () => {
      throw new Error('broken follower');
    });
    sut.on('retrainStarted', ({ model }) => seen.push(model));
    expect(() => sut.emit('retrainStarted', { model: 'spam' })).not.toThrow();
    expect(seen).toEqual(['spam']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ event: 'retrainStarted', err: { message: 'broken follower' } });
  });

  it('stops following once unsubscribed; an event with no follower is a no-op', () => {
    const { sut } = sutWithLog();
    const seen: number[] = [];
    const off = sut.on('predictionsServed', ({ seconds }) => seen.push(seconds));
    sut.emit('predictionsServed', { predictions: [], seconds: 1 });
    off();
    sut.emit('predictionsServed', { predictions: [], seconds: 2 });
    sut.emit('feedbackBatchCommitted', { model: 'fraud', from: 1, to: 2 });
    expect(seen).toEqual([1]);
  });
});
