// What a benchmarked server and its PostgreSQL did during one measured run: the server's
// event-loop delay and GC (its probe), commits and WAL activity (differences of PostgreSQL's
// cumulative counters, read about a second either side because it flushes them at most once a second).
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchPostgres } from './postgres.js';

export interface RunDiagnostics<Loop> {
  loop: Loop;
  seconds: number;
  commitsPerSecond: number;
  walFsyncs: number;
  walFsyncsPerSecond: number;
  walFsyncAvgMs: number;
  walMBPerSecond: number;
  fullPageImagesPerSecond: number;
  checkpoints: number;
}

/** The server's loop probe: `reset` starts a measurement, `read` ends it. */
export interface LoopProbe<Loop> {
  reset(): Promise<unknown>;
  read(): Promise<Loop>;
}

/** Runs `run` (which says how long it measured) between two reads of the probe and of PostgreSQL's counters. */
export async function diagnosed<T extends { seconds: number }, Loop>(
  pg: BenchPostgres,
  probe: LoopProbe<Loop>,
  run: () => Promise<T>,
): Promise<{ result: T; diag: RunDiagnostics<Loop> }> {
  await sleep(1100);
  const before = await pg.activity();
  await probe.reset();
  const result = await run();
  const loop = await probe.read();
  await sleep(1100);
  const after = await pg.activity();
  const syncs = after.syncs - before.syncs;
  const seconds = result.seconds;
  return {
    result,
    diag: {
      loop,
      seconds,
      commitsPerSecond: (after.commits - before.commits) / seconds,
      walFsyncs: syncs,
      walFsyncsPerSecond: syncs / seconds,
      walFsyncAvgMs: syncs ? (after.syncMs - before.syncMs) / syncs : NaN,
      walMBPerSecond: (after.walBytes - before.walBytes) / 2 ** 20 / seconds,
      fullPageImagesPerSecond: (after.fpi - before.fpi) / seconds,
      checkpoints: after.checkpoints - before.checkpoints,
    },
  };
}
