// Relearn as a child process (`node --import tsx server/src/main.ts`), as an operator runs it:
// its log to a file (error and warn lines counted), its main thread's event-loop delay and GC
// read through bench/train-probe.ts, stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../scripts/services/background-process.js';
import type { LoopDelay } from './loop-delay.js';
import { BENCH_DIR, ROOT } from './report.js';

const PROBE = join(BENCH_DIR, 'train-probe.ts');

export interface LoopStats extends LoopDelay {
  heapUsedMB: number;
  rssMB: number;
}

export interface Relearn {
  proc: ChildProcess;
  base: string;
  port: number;
  logFile: string;
  logCounts: { warn: number; error: number; firstError?: string };
  spawnedAt: number;
  stop(): Promise<number | null>;
  /** The child's event-loop delay and GC since the previous call (bench/train-probe.ts). */
  probe(): Promise<LoopStats>;
}

/** Starts Relearn on a free port with `env` (on top of this process's, less the outside services'). */
export async function startRelearn(env: Record<string, string>, logFile: string, extraArgs: string[] = []): Promise<Relearn> {
  const port = await freePort();
  const probeFile = `${logFile}.probe.json`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['MLFLOW_TRACKING_URI', 'S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'NODE_OPTIONS']) delete childEnv[k];
  const spawnedAt = performance.now();
  const proc = spawn(process.execPath, [...extraArgs, '--import', 'tsx', '--import', PROBE, 'server/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...childEnv,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      BENCH_PROBE_FILE: probeFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(logFile);
  const logCounts: Relearn['logCounts'] = { warn: 0, error: 0 };
  let partial = '';
  const onData = (chunk: Buffer) => {
    out.write(chunk);
    partial += chunk.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        if ((j.level ?? 0) >= 50) {
          logCounts.error++;
          logCounts.firstError ??= `${j.msg}${j.err?.message ? `: ${j.err.message}` : ''}`;
        } else if ((j.level ?? 0) >= 40) logCounts.warn++;
      } catch {
        /* not a log line */
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', (chunk: Buffer) => out.write(chunk));
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve((exited = code))));
  return {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    logFile,
    logCounts,
    spawnedAt,
    async probe() {
      rmSync(probeFile, { force: true });
      proc.kill('SIGUSR2');
      for (let i = 0; i < 200; i++) {
        if (existsSync(probeFile)) return JSON.parse(readFileSync(probeFile, 'utf8')) as LoopStats;
        await sleep(10);
      }
      throw new Error('the Relearn child did not answer the probe signal');
    },
    async stop() {
      if (exited !== undefined) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
      const code = await exit;
      clearTimeout(timer);
      out.end();
      return code;
    },
  };
}

/** Polls /readyz: when HTTP first answers and when it is 200 (every model live). */
export async function waitReady(relearn: Relearn, timeoutMs: number): Promise<{ httpUpMs: number; readyMs: number }> {
  const deadline = performance.now() + timeoutMs;
  let httpUpMs = NaN;
  while (performance.now() < deadline) {
    if (relearn.proc.exitCode !== null) throw new Error(`Relearn exited with ${relearn.proc.exitCode} during start-up; see ${relearn.logFile}`);
    try {
      const res = await fetch(`${relearn.base}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await res.text();
      if (Number.isNaN(httpUpMs)) httpUpMs = performance.now() - relearn.spawnedAt;
      if (res.status === 200) return { httpUpMs, readyMs: performance.now() - relearn.spawnedAt };
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`Relearn was not ready within ${timeoutMs} ms; see ${relearn.logFile}`);
}
