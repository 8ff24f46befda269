import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { remainingAtLeast, runShutdownSteps, ShutdownIncompleteError } from './shutdown.js';

const logger = pino({ level: 'silent' });

describe(runShutdownSteps.name, () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs the steps in order and resolves when all finish', async () => {
    const order: string[] = [];
    await runShutdownSteps(
      [
        { name: 'a', timeoutMs: 100, run: async () => void order.push('a') },
        { name: 'b', timeoutMs: 100, run: () => void order.push('b') },
      ],
      logger,
    );
    expect(order).toEqual(['a', 'b']);
  });

  it('abandons a step that never finishes after its budget, still runs the rest, and reports it', async () => {
    const ran: string[] = [];
    const sut = runShutdownSteps(
      [
        { name: 'hangs', timeoutMs: 1_000, run: () => new Promise(() => {}) },
        { name: 'fails', timeoutMs: 1_000, run: () => Promise.reject(new Error('connection reset')) },
        { name: 'closes', timeoutMs: 1_000, run: () => void ran.push('closes') },
      ],
      logger,
    );
    const outcome = sut.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(999);
    expect(ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(ran).toEqual(['closes']);
    expect(error).toBeInstanceOf(ShutdownIncompleteError);
    expect((error as ShutdownIncompleteError).failures).toEqual([
      { step: 'hangs', reason: 'not finished within 1000 ms' },
      { step: 'fails', reason: 'connection reset' },
    ]);
  });

  it('evaluates a budget when its step starts and passes it to the step', async () => {
    const until = Date.now() + 5_000;
    const budgets: number[] = [];
    const sut = runShutdownSteps(
      [
        { name: 'slow', timeoutMs: 10_000, run: () => new Promise((resolve) => setTimeout(resolve, 1_000)) },
        {
          name: 'shares what is left',
          timeoutMs: remainingAtLeast(2_000, until),
          run: (ms) => {
            budgets.push(ms);
            return new Promise((resolve) => setTimeout(resolve, 3_500));
          },
        },
        { name: 'keeps its floor', timeoutMs: remainingAtLeast(2_000, until), run: (ms) => void budgets.push(ms) },
      ],
      logger,
    );
    await vi.advanceTimersByTimeAsync(4_500);
    await sut;
    expect(budgets).toEqual([4_000, 2_000]);
  });
});
