// Preloaded into the Relearn child by bench/train.ts (`--import ./bench/train-probe.ts`): measures
// the main thread's event-loop delay and GC pauses. On SIGUSR2 it writes what it saw since the
// previous signal to $BENCH_PROBE_FILE (then renames it into place) and starts over.
// Training workers inherit the child's execArgv, so this also loads there: it does nothing there.
import { renameSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_PROBE_FILE;
if (isMainThread && file) {
  const loop = monitorEventLoopDelay({ resolution: 2 });
  loop.enable();
  let gc = { count: 0, totalMs: 0, maxMs: 0, major: 0, majorMaxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.major++;
        gc.majorMaxMs = Math.max(gc.majorMaxMs, e.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => {
    const stats = {
      p50: loop.percentile(50) / 1e6,
      p99: loop.percentile(99) / 1e6,
      max: loop.max / 1e6,
      gc,
      heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
      rssMB: process.memoryUsage().rss / 2 ** 20,
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(stats));
    renameSync(`${file}.tmp`, file);
    loop.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0, major: 0, majorMaxMs: 0 };
  });
}
