// What the service scripts (PostgreSQL, MinIO, MLflow, Prometheus) share: the install cache,
// install locks, one way to run a command (runCommand) and one way to start a server (retrying
// on a taken port, stopped once: startWithPortRetry, startHttpServer), servers in their own
// process group, readiness polling and stopping. Node built-ins only.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type Log = (msg: string) => void;

/** Where built binaries and virtual environments are kept between runs: `$RELEARN_CACHE_DIR` or ~/.cache/relearn. */
export function cacheDir(): string {
  return path.resolve(process.env.RELEARN_CACHE_DIR || path.join(homedir(), '.cache', 'relearn'));
}

/**
 * A TCP port that was free on 127.0.0.1 a moment ago. Kept rather than get-port: binding port 0
 * is what get-port does too, and the race neither closes (taken before the server binds it) is
 * handled by startWithPortRetry.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be bound right now (a fixed port the user chose). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The last `lines` lines of a text file (or a note that it is missing). */
export async function tailFile(file: string, lines = 40, fromByte = 0): Promise<string> {
  const text = await readFile(file).then(
    (b) => b.subarray(fromByte).toString('utf8'),
    () => `(no log at ${file})`,
  );
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The argument vector of a running process, or null when it is gone (Linux /proc). */
export async function processArgv(pid: number): Promise<string[] | null> {
  const raw = await readFile(`/proc/${pid}/cmdline`).catch(() => null);
  if (!raw || raw.length === 0) return null;
  return raw.toString('utf8').split('\0').filter(Boolean);
}

/** Pids of the processes whose argument vector matches (Linux /proc); never this process. */
export async function findProcesses(matches: (argv: string[]) => boolean): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await processArgv(Number(entry));
    if (argv && matches(argv)) pids.push(Number(entry));
  }
  return pids;
}

/** Waits, with a progress line now and then, until none of `pids` runs any more. */
export async function waitForProcessesToEnd(pids: number[], what: string, log: Log, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let lastReport = started;
  while (pids.some(processAlive)) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`gave up after ${Math.round(timeoutMs / 60_000)} min waiting for ${what} (pid ${pids.join(', ')})`);
    }
    if (Date.now() - lastReport >= 30_000) {
      lastReport = Date.now();
      log(`still waiting for ${what} (pid ${pids.join(', ')}, ${Math.round((Date.now() - started) / 1000)} s)`);
    }
    await sleep(1_000);
  }
}

/**
 * Runs `fn` holding an exclusive lock file (holding this process's pid), so two processes never
 * install the same thing at once. A lock left by a process that died is taken over. Hand-written
 * rather than proper-lockfile: with the owner's pid a dead owner's lock is free at once (no
 * staleness timeout during a 10-minute build) and the wait message names who holds it.
 */
export async function withLock<T>(lockFile: string, what: string, log: Log, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  const started = Date.now();
  let lastReport = 0;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (!owner || !processAlive(owner)) {
      // Written a moment ago by a process that has not written its pid yet, or left by a dead one.
      const age = await stat(lockFile).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (owner || age > 5_000) await rm(lockFile, { force: true });
      await sleep(200);
      continue;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`gave up after ${Math.round(timeoutMs / 60_000)} min waiting for pid ${owner} to finish ${what} (lock ${lockFile})`);
    }
    if (Date.now() - lastReport >= 30_000) {
      lastReport = Date.now();
      log(`waiting for pid ${owner} to finish ${what} (lock ${lockFile})`);
    }
    await sleep(1_000);
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

export interface CommandResult {
  code: number | null;
  /** stdout and stderr as they came (the last `keepOutput` characters). */
  output: string;
  stdout: string;
}

/**
 * Runs a command to its end and says how it ended; never rejects on the exit code (only when it
 * cannot start, e.g. not installed). With `progress`, a line with the command's latest output
 * every 30 s; with `inherit`, its output goes to this process's instead of being collected.
 */
export function runCommand(
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    uid?: number;
    gid?: number;
    inherit?: boolean;
    timeoutMs?: number;
    keepOutput?: number;
    progress?: { what: string; log: Log };
  } = {},
): Promise<CommandResult> {
  const keep = options.keepOutput ?? 1_000_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: options.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }),
    });
    let output = '';
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString('utf8')).slice(-keep);
      output = (output + chunk.toString('utf8')).slice(-keep);
    });
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-keep)));
    const started = Date.now();
    const timer = options.progress
      ? setInterval(() => {
          const last = output.trimEnd().split('\n').at(-1)?.slice(0, 160) ?? '';
          options.progress!.log(`${options.progress!.what}: ${Math.round((Date.now() - started) / 1000)} s so far; latest: ${last}`);
        }, 30_000)
      : undefined;
    child.once('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearInterval(timer);
      resolve({ code, output, stdout });
    });
  });
}

/**
 * Runs an install command with its output appended to `logFile`, printing a progress line (time so
 * far and the command's latest output line) every 30 s. Throws with the log tail if it fails.
 */
export async function runInstallStep(
  what: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; log: Log },
): Promise<void> {
  const { log, logFile } = options;
  await mkdir(path.dirname(logFile), { recursive: true });
  const from = await stat(logFile).then(
    (s) => s.size,
    () => 0,
  );
  await writeFile(logFile, `\n$ ${command} ${args.join(' ')}\n`, { flag: 'a' });
  const fd = openSync(logFile, 'a');
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const timer = setInterval(() => {
    void tailFile(logFile, 1, from).then((last) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      log(`${what}: ${seconds} s so far; latest: ${last.slice(0, 160)}`);
    });
  }, 30_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) {
      throw new Error(
        `${what} failed (\`${command} ${args.join(' ')}\` exited with ${code})\n--- tail of ${logFile} ---\n${await tailFile(logFile, 30, from)}`,
      );
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${what} failed: ${command} not found`, { cause: error });
    throw error;
  } finally {
    clearInterval(timer);
  }
  log(`${what}: done in ${Math.round((Date.now() - started) / 1000)} s`);
}

export interface ServerProcess {
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Byte offset of this run in the log file (earlier runs are above it). */
  logStart: number;
}

/**
 * Starts a server in its own process group (so stopping it also stops its workers), output
 * appended to `logFile`. With `keepRunning` it outlives this process (`services:up`); otherwise it
 * is killed if this process exits without stopping it.
 */
export async function startServerProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; keepRunning?: boolean },
): Promise<ServerProcess> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const logStart = await stat(options.logFile).then(
    (s) => s.size,
    () => 0,
  );
  await writeFile(options.logFile, `\n$ ${command} ${args.join(' ')}\n`, { flag: 'a' });
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  if (options.keepRunning) {
    child.unref();
  } else {
    const killGroup = (): void => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.once('exit', killGroup);
    child.once('exit', () => process.off('exit', killGroup));
  }
  return { pid, child, logFile: options.logFile, logStart };
}

/**
 * Polls `url` until `ready(status, body)` holds. Fails at once, with the log tail, if the server
 * process exits; fails after `timeoutMs` otherwise.
 */
export async function waitForHttp(
  name: string,
  url: string,
  server: ServerProcess,
  timeoutMs: number,
  ready: (status: number, body: string) => boolean = (status) => status === 200,
): Promise<void> {
  let exited: string | null = null;
  const onExit = (code: number | null, signal: string | null): void => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  };
  server.child.once('exit', onExit);
  if (server.child.exitCode !== null) onExit(server.child.exitCode, server.child.signalCode);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  try {
    while (!exited && Date.now() < deadline) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        const body = await response.text();
        if (ready(response.status, body)) return;
        last = `HTTP ${response.status} ${body.slice(0, 200)}`;
      } catch (error) {
        last = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
      }
      await sleep(250);
    }
  } finally {
    server.child.off('exit', onExit);
  }
  const why = exited ? `exited with ${exited}` : `did not answer ${url} within ${Math.round(timeoutMs / 1000)} s (last: ${last})`;
  throw new Error(`${name} ${why}\n--- tail of ${server.logFile} ---\n${await tailFile(server.logFile, 40, server.logStart)}`);
}

/** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves when the group is gone. */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  const groupAlive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  if (!groupAlive()) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive() && Date.now() < deadline) await sleep(100);
  if (groupAlive()) {
    signal('SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (groupAlive() && Date.now() < killDeadline) await sleep(100);
  }
}

/** A server start that failed because a port it was given was taken meanwhile. */
export class PortTakenError extends Error {}

/**
 * Starts a server on ports picked by `pick`, picking new ones and starting again (three tries in
 * all) when `start` throws PortTakenError: a port found free can be taken before the server binds
 * it. Ports the caller chose (`fixed`) are tried once. The last failure is thrown with its message.
 */
export async function startWithPortRetry<P, T>(
  what: string,
  options: { fixed: boolean; pick: () => Promise<P>; log: Log },
  start: (ports: P) => Promise<T>,
): Promise<T> {
  const attempts = options.fixed ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const ports = await options.pick();
    try {
      return await start(ports);
    } catch (error) {
      if (!(error instanceof PortTakenError)) throw error;
      if (attempt >= attempts) throw new Error(error.message, { cause: error });
      options.log(`${what}: port ${[ports].flat().join(' or ')} was taken; retrying with another`);
    }
  }
}

/** `stop` run once, however often (and however concurrently) the result is called. */
export function stopOnce(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}

/** What servers print when a port is taken (Go's `bind: address already in use`, MinIO's own, PostgreSQL's). */
export const PORT_TAKEN = /already in use|could not bind|\bbind\b/i;

export interface HttpServer {
  /** http://127.0.0.1:PORT (the first port) */
  url: string;
  /** The ports it listens on, in the order they were asked for. */
  ports: number[];
  pid: number;
  logFile: string;
  /** Stops the server and its workers (SIGTERM, then SIGKILL); safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts a server process listening on 127.0.0.1 (in its own process group, output appended to
 * its log file) and resolves once `readyPath` answers: the one way MinIO, MLflow, Prometheus and
 * Alertmanager are started. `ports` are the ports it needs, 0 for one picked here (retried when
 * taken, see startWithPortRetry).
 */
export async function startHttpServer(options: {
  name: string;
  ports: number[];
  command: string;
  args: (ports: number[]) => string[];
  env?: NodeJS.ProcessEnv;
  logFile: string | ((ports: number[]) => string);
  keepRunning?: boolean;
  readyPath: string;
  ready?: (status: number, body: string) => boolean;
  timeoutMs: number;
  log: Log;
  /** What the "starting" line says after the URL, e.g. the data directory. */
  details?: (ports: number[]) => string;
}): Promise<HttpServer> {
  const { name, log } = options;
  const pick = async (): Promise<number[]> => {
    const ports: number[] = [];
    for (const fixed of options.ports) {
      let port = fixed || (await freePort());
      while (!fixed && ports.includes(port)) port = await freePort();
      ports.push(port);
    }
    return ports;
  };
  return startWithPortRetry(name, { fixed: options.ports.some(Boolean), pick, log }, async (ports) => {
    const url = `http://127.0.0.1:${ports[0]}`;
    const logFile = typeof options.logFile === 'function' ? options.logFile(ports) : options.logFile;
    const startedAt = Date.now();
    log(`starting ${name} at ${url} (${[options.details?.(ports), `log ${logFile}`].filter(Boolean).join(', ')})`);
    const server = await startServerProcess(options.command, options.args(ports), { env: options.env, logFile, keepRunning: options.keepRunning ?? false });
    try {
      await waitForHttp(name, `${url}${options.readyPath}`, server, options.timeoutMs, options.ready);
    } catch (error) {
      await stopProcessGroup(server.pid, 2_000);
      const message = `${name} failed to start: ${(error as Error).message}`;
      if (PORT_TAKEN.test(await tailFile(logFile, 20, server.logStart))) throw new PortTakenError(message, { cause: error });
      throw new Error(message, { cause: error });
    }
    log(`${name} is ready at ${url} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
    return {
      url,
      ports,
      pid: server.pid,
      logFile,
      stop: stopOnce(async () => {
        log(`stopping ${name} at ${url}`);
        await stopProcessGroup(server.pid);
      }),
    };
  });
}
