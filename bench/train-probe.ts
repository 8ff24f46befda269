// Preloaded into the Relearn child by bench/lib/relearn-process.ts (`--import ./bench/train-probe.ts`):
// measures the main thread's event-loop delay and GC pauses. On SIGUSR2 it writes what it saw since
// the previous signal to $BENCH_PROBE_FILE (then renames it into place) and starts over.
// Training workers inherit the child's execArgv, so this also loads there: it does nothing there.
import { renameSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { startLoopDelayProbe } from './lib/loop-delay.js';

const file = process.env.BENCH_PROBE_FILE;
if (isMainThread && file) {
  const probe = startLoopDelayProbe();
  process.on('SIGUSR2', () => {
    const stats = {
      ...probe.read(),
      heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
      rssMB: process.memoryUsage().rss / 2 ** 20,
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(stats));
    renameSync(`${file}.tmp`, file);
    probe.reset();
  });
}
