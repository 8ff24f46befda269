import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type DatabaseConnection, type Driver } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Orm } from '../database/orm.js';
import { FeedbackRepository } from '../feedback/feedback.repository.js';
import type { Logger } from '../logger.js';
import type { MetricsService } from '../metrics/metrics-service.js';
import type { ModelService } from '../models/model-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { RetrainService } from './retrain-service.js';
import { RetrainTriggers } from './retrain-triggers.js';

const POLICY = { afterFeedback: 500, minAccuracy: 0.93, window: 300, minSamples: 100, cooldownSeconds: 300, promotionMargin: 0.005 };
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

/** The world the triggers read, set by each test. */
interface World {
  /** Labelled feedback the live version has not seen (the database's count). */
  unseen: number;
  window: { n: number; correct: number };
  pending: boolean;
  lastActivity: Date | null;
  live: boolean;
}

/** A Kysely whose only query (the unseen-feedback count) is answered from the world: the database boundary, faked. */
function countingDatabase(world: World, queries: { sql: string; parameters: readonly unknown[] }[]): Kysely<any> {
  const connection: DatabaseConnection = {
    async executeQuery(query) {
      queries.push({ sql: query.sql, parameters: query.parameters });
      return { rows: [{ n: String(world.unseen) }] } as never;
    },
    // never streamed
    async *streamQuery() {
      throw new Error('not used');
    },
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  return new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

function setUp(world: World, debounceMs = 1000) {
  const queries: { sql: string; parameters: readonly unknown[] }[] = [];
  const requested: { model: string; kind: string; reason: string }[] = [];
  const warnings: unknown[] = [];
  const db = countingDatabase(world, queries);
  const orm = { em: { getKysely: () => db } } as unknown as Orm;
  const tasks = { get: (name: string) => (name === 'spam' ? { name, definition: { retrain: POLICY } } : undefined) } as unknown as TaskRegistry;
  const models = {
    getLive: (model: string) => (world.live && model === 'spam' ? { versionId: 7, version: 3, trainedCursor: { kind: 'id', throughId: 41 } } : undefined),
  } as unknown as ModelService;
  const metrics = { recentWindow: vi.fn(async (_model: string, _versionId: number, _size: number) => world.window) };
  const retrains = {
    pending: async () => world.pending,
    lastActivity: async () => world.lastActivity,
    request: async (model: string, r: { kind: string; reason: string }) => void requested.push({ model, ...r }),
  } as unknown as RetrainService;
  const logger = { warn: (...args: unknown[]) => void warnings.push(args) } as unknown as Logger;
  const sut = new RetrainTriggers(new FeedbackRepository(orm), tasks, models, retrains, metrics as unknown as MetricsService, logger, debounceMs);
  return { sut, queries, requested, warnings, metrics };
}

const quiet = (): World => ({ unseen: 0, window: { n: 0, correct: 0 }, pending: false, lastActivity: null, live: true });

describe(RetrainTriggers.name, () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('check()', () => {
    it('requests nothing while accuracy and the feedback count are fine', async () => {
      const { sut, requested, metrics, queries } = setUp({ ...quiet(), unseen: 499, window: { n: 300, correct: 290 } });
      expect(await sut.check('spam')).toBeNull();
      expect(requested).toEqual([]);
      // The window is the live version's last `window` feedback; the count is of the model's unseen feedback.
      expect(metrics.recentWindow).toHaveBeenCalledWith('spam', 7, 300);
      expect(queries).toHaveLength(1);
      expect(queries[0]!.sql).toMatch(/count\(\*\).*from feedback/s);
      expect(queries[0]!.parameters).toContain('spam');
    });

    it('retrains after `afterFeedback` new labelled feedback, not one before', async () => {
      const world = { ...quiet(), unseen: 499 };
      const { sut, requested } = setUp(world);
      expect(await sut.check('spam')).toBeNull();
      world.unseen = 500;
      expect(await sut.check('spam')).toBe('500 new labelled feedback since version 3 was trained (threshold 500)');
      expect(requested).toEqual([{ model: 'spam', kind: 'feedback-count', reason: expect.stringContaining('500 new labelled feedback') }]);
    });

    it('judges accuracy only from `minSamples` answers on: 99 wrong answers do not retrain', async () => {
      const { sut, requested } = setUp({ ...quiet(), window: { n: 99, correct: 0 } });
      expect(await sut.check('spam')).toBeNull();
      expect(requested).toEqual([]);
    });

    it('retrains on accuracy only when the upper end of the 95% Wilson interval is below the threshold', async () => {
      // 90 of 100 is below 0.93, but the interval's upper end (0.945) is not: not enough evidence.
      const world = { ...quiet(), window: { n: 100, correct: 90 } };
      const { sut, requested } = setUp(world);
      expect(await sut.check('spam')).toBeNull();
      expect(requested).toEqual([]);
      // 85 of 100: upper end 0.907 < 0.93.
      world.window = { n: 100, correct: 85 };
      const reason = await sut.check('spam');
      expect(reason).toBe('live accuracy 0.850 over the last 100 feedback of version 3 (95% upper bound 0.907) is below 0.93');
      expect(requested).toEqual([{ model: 'spam', kind: 'accuracy', reason }]);
    });

    it('gives both reasons to the queue, accuracy first, and returns the accuracy one', async () => {
      const { sut, requested } = setUp({ ...quiet(), unseen: 800, window: { n: 300, correct: 150 } });
      expect(await sut.check('spam')).toMatch(/^live accuracy 0\.500/);
      expect(requested.map((r) => r.kind)).toEqual(['accuracy', 'feedback-count']);
    });

    it('waits `cooldownSeconds` after the last retrain activity', async () => {
      const world = { ...quiet(), unseen: 1000, lastActivity: new Date(NOW - 299_000) };
      const { sut, requested } = setUp(world);
      expect(await sut.check('spam')).toBeNull();
      vi.setSystemTime(NOW + 999);
      expect(await sut.check('spam')).toBeNull();
      vi.setSystemTime(NOW + 1000);
      expect(await sut.check('spam')).toMatch(/^1000 new labelled feedback/);
      expect(requested).toHaveLength(1);
    });

    it('requests nothing while a retrain of the model is pending, or without a task or a live model', async () => {
      const world = { ...quiet(), unseen: 1000, window: { n: 300, correct: 0 }, pending: true };
      const { sut, requested, queries } = setUp(world);
      expect(await sut.check('spam')).toBeNull();
      expect(queries).toEqual([]);
      world.pending = false;
      expect(await sut.check('fraud')).toBeNull();
      world.live = false;
      expect(await sut.check('spam')).toBeNull();
      expect(requested).toEqual([]);
    });
  });

  describe('feedbackRecorded()', () => {
    it('checks once per debounce interval, however much feedback arrives in it', async () => {
      const { sut, metrics } = setUp({ ...quiet(), unseen: 1 });
      for (let i = 0; i < 50; i++) sut.feedbackRecorded('spam');
      await vi.advanceTimersByTimeAsync(999);
      expect(metrics.recentWindow).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      await sut.drain();
      expect(metrics.recentWindow).toHaveBeenCalledTimes(1);
      // The next feedback opens a new interval.
      sut.feedbackRecorded('spam');
      await vi.advanceTimersByTimeAsync(1000);
      await sut.drain();
      expect(metrics.recentWindow).toHaveBeenCalledTimes(2);
    });

    it('runs the checks of one model one after the other, never side by side', async () => {
      const { sut, metrics } = setUp({ ...quiet(), unseen: 1 }, 10);
      let inFlight = 0;
      let most = 0;
      const releases: (() => void)[] = [];
      metrics.recentWindow.mockImplementation(async () => {
        most = Math.max(most, ++inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight -= 1;
        return { n: 0, correct: 0 };
      });
      sut.feedbackRecorded('spam');
      await vi.advanceTimersByTimeAsync(10);
      sut.feedbackRecorded('spam');
      await vi.advanceTimersByTimeAsync(10);
      // The second check waits for the first, still in flight.
      expect(releases).toHaveLength(1);
      releases.shift()!();
      await vi.waitFor(() => expect(releases).toHaveLength(1));
      releases.shift()!();
      await sut.drain();
      expect(metrics.recentWindow).toHaveBeenCalledTimes(2);
      expect(most).toBe(1);
    });

    it('logs a failed check and keeps checking', async () => {
      const { sut, metrics, warnings } = setUp({ ...quiet(), unseen: 1 });
      metrics.recentWindow.mockRejectedValueOnce(new Error('database gone'));
      sut.feedbackRecorded('spam');
      await vi.advanceTimersByTimeAsync(1000);
      await sut.drain();
      expect(warnings).toEqual([[{ err: expect.objectContaining({ message: 'database gone' }), model: 'spam' }, 'retrain trigger check failed']]);
      sut.feedbackRecorded('spam');
      await vi.advanceTimersByTimeAsync(1000);
      await sut.drain();
      expect(metrics.recentWindow).toHaveBeenCalledTimes(2);
    });

    it('stop() cancels the checks not yet due', async () => {
      const { sut, metrics } = setUp({ ...quiet(), unseen: 1 });
      sut.feedbackRecorded('spam');
      sut.stop();
      await vi.advanceTimersByTimeAsync(5000);
      await sut.drain();
      expect(metrics.recentWindow).not.toHaveBeenCalled();
    });
  });
});
