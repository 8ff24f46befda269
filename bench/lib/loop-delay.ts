// The event-loop delay and GC pauses of the process it runs in (a benchmarked server), read and
// started over per measured run.
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';

/** Garbage-collection pauses (ms). */
export interface GcStats {
  count: number;
  totalMs: number;
  maxMs: number;
  major: number;
  majorMaxMs: number;
}
/** Event-loop delay (ms) and GC since the last reset. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  gc: GcStats;
  /** CPU time of the whole process (user + system, every thread) since the reset: less swayed by other work on the machine than a rate. */
  cpuMs: number;
}

const noGc = (): GcStats => ({ count: 0, totalMs: 0, maxMs: 0, major: 0, majorMaxMs: 0 });

export function startLoopDelayProbe(): { read(): LoopDelay; reset(): void } {
  const loop = monitorEventLoopDelay({ resolution: 2 });
  loop.enable();
  let gc = noGc();
  let cpu = process.cpuUsage();
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
  return {
    read: () => {
      const used = process.cpuUsage(cpu);
      return { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6, gc, cpuMs: (used.user + used.system) / 1000 };
    },
    reset: () => {
      loop.reset();
      gc = noGc();
      cpu = process.cpuUsage();
    },
  };
}
