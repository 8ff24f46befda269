import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RelearnProcess {
  child: ChildProcess;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown, nothing flushed — a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
}

/** This run's memoised bootstrap fits, as environment (none in the unit tier, which starts no app). */
export function fitCacheEnv(): Record<string, string> {
  const dir = inject('fitCacheDir');
  return dir ? { BOOTSTRAP_FIT_CACHE_DIR: dir } : {};
}

/** Runs `server/src/<entry>.ts` (main or trainer) as its own Node process with the given environment. */
export function startRelearnProcess(entry: 'main' | 'trainer', env: Record<string, string>): RelearnProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `server/src/${entry}.ts`], {
    cwd: root,
    // As startTestApp: tests teach as the operator's own traffic (the trust gate's tests say otherwise).
    env: { ...process.env, LOG_LEVEL: 'info', LOG_PRETTY: 'false', TRUSTED_SOURCES: 'anonymous', ...fitCacheEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Resolves once the process has printed a line matching `pattern`. */
export async function waitForOutput(p: RelearnProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!pattern.test(p.output())) {
    if (p.child.exitCode !== null) throw new Error(`process exited (${p.child.exitCode}) before printing ${pattern}:\n${p.output().slice(-3000)}`);
    if (Date.now() - started > timeoutMs) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
