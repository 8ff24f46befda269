import type { Logger } from '../logger.js';

/** One step of a shutdown (or of releasing what a failed start had started). */
export interface ShutdownStep {
  name: string;
  /** The most this step may take, evaluated when it starts; after that it is abandoned. */
  timeoutMs: number | (() => number);
  /** Given the step's budget, so a step with a timeout of its own (pg-boss, the HTTP server) can fit in it. */
  run: (budgetMs: number) => unknown;
}

/** A shutdown that could not do everything it had to: the process should exit non-zero. */
export class ShutdownIncompleteError extends Error {
  constructor(readonly failures: { step: string; reason: string }[]) {
    super(`shutdown incomplete: ${failures.map((f) => `${f.step} (${f.reason})`).join('; ')}`);
    this.name = 'ShutdownIncompleteError';
  }
}

/**
 * Runs the steps in order, each bounded by its budget, so the whole takes at most the sum of the
 * budgets whatever the outside systems do (a PostgreSQL that is gone never answers a pool's close).
 * A step that fails or overruns is logged and the next one still runs: later steps close what an
 * earlier one could not finish with. Throws ShutdownIncompleteError at the end if any step did.
 */
export async function runShutdownSteps(steps: ShutdownStep[], logger: Logger, what = 'stopping'): Promise<void> {
  const failures: { step: string; reason: string }[] = [];
  for (const step of steps) {
    const budgetMs = Math.max(0, typeof step.timeoutMs === 'function' ? step.timeoutMs() : step.timeoutMs);
    const started = Date.now();
    logger.info({ step: step.name, budgetMs }, `${what}: ${step.name}`);
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<'overrun'>((resolve) => {
      timer = setTimeout(() => resolve('overrun'), budgetMs);
    });
    try {
      // Promise.race subscribes to the step, so a late rejection of an abandoned step is handled.
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => step.run(budgetMs))
          .then(() => 'done' as const),
        overrun,
      ]);
      if (outcome === 'overrun') {
        logger.error({ step: step.name, budgetMs }, `${what}: ${step.name} did not finish within ${budgetMs} ms; abandoned`);
        failures.push({ step: step.name, reason: `not finished within ${budgetMs} ms` });
      } else {
        logger.debug({ step: step.name, ms: Date.now() - started }, `${what}: ${step.name} done`);
      }
    } catch (error) {
      logger.error({ err: error, step: step.name }, `${what}: ${step.name} failed`);
      failures.push({ step: step.name, reason: (error as Error)?.message ?? String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
  if (failures.length > 0) throw new ShutdownIncompleteError(failures);
}

/** A budget of what is left until `untilMs`, never less than `floorMs`: steps share one deadline for work in
 * flight, and a slow step cannot starve the ones after it. */
export function remainingAtLeast(floorMs: number, untilMs: number): () => number {
  return () => Math.max(floorMs, untilMs - Date.now());
}
