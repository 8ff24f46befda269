import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { findProcesses, processAlive, startServerProcess, stopProcessGroup, waitForHttp, withLock } from './background-process.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'relearn-bg-'));
  dirs.push(dir);
  return dir;
}

describe(withLock.name, () => {
  it('lets one holder at a time run, in turn', async () => {
    const lock = path.join(await tempDir(), 'install.lock');
    const events: string[] = [];
    const names = ['a', 'b', 'c'];
    // withLock logs when it first finds the lock taken: that is how a holder knows the others wait.
    const seenWaiting = new Set<string>();
    let waitersChanged = () => {};
    const finished = new Set<string>();
    const holder = (name: string) =>
      withLock(
        lock,
        name,
        () => {
          seenWaiting.add(name);
          waitersChanged();
        },
        10_000,
        async () => {
          events.push(`${name} in`);
          // Stay inside until every holder that has not run yet has been turned away at least once.
          const othersWait = () => names.every((n) => n === name || finished.has(n) || seenWaiting.has(n));
          while (!othersWait()) await new Promise<void>((resolve) => (waitersChanged = resolve));
          events.push(`${name} out`);
          finished.add(name);
        },
      );
    await Promise.all(names.map(holder));
    expect(events).toHaveLength(6);
    for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i]!.replace(' in', ' out'));
  });

  it('takes over a lock left by a process that died', async () => {
    const lock = path.join(await tempDir(), 'install.lock');
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(lock, String(dead.pid));
    expect(
      await withLock(
        lock,
        'test',
        () => undefined,
        5_000,
        async () => 'ran',
      ),
    ).toBe('ran');
  });
});

describe(findProcesses.name, () => {
  it('finds a running process by its arguments', async () => {
    // An argument of its own: other test runs on the machine may have sleeps running too.
    const seconds = `30.${process.pid}`;
    const child = spawn('sleep', [seconds]);
    try {
      await vi.waitFor(async () => expect(await findProcesses((argv) => argv.includes(seconds))).toEqual([child.pid]), { timeout: 10_000, interval: 20 });
    } finally {
      child.kill();
    }
  });
});

describe(startServerProcess.name, () => {
  it('reports a server that exits at once with its log, and stops a whole process group', async () => {
    const dir = await tempDir();
    const failing = await startServerProcess('sh', ['-c', 'echo "cannot bind: address already in use" >&2; exit 3'], {
      logFile: path.join(dir, 'failing.log'),
    });
    await expect(waitForHttp('Failing', 'http://127.0.0.1:9/health', failing, 10_000)).rejects.toThrow(
      /Failing exited with code 3[\s\S]*address already in use/,
    );

    // A parent with a child of its own, as `mlflow server` has its uvicorn worker.
    const seconds = `60.${process.pid}`;
    const server = await startServerProcess('sh', ['-c', `sleep ${seconds} & wait`], { logFile: path.join(dir, 'group.log') });
    const worker = await vi.waitFor(
      async () => {
        const [pid] = await findProcesses((argv) => argv[0] === 'sleep' && argv[1] === seconds);
        expect(pid).toBeDefined();
        return pid!;
      },
      { timeout: 10_000, interval: 20 },
    );
    await stopProcessGroup(server.pid, 2_000);
    expect(processAlive(server.pid)).toBe(false);
    expect(processAlive(worker)).toBe(false);
  });
});
