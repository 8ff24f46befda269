import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PortTakenError, processAlive, runCommand, startHttpServer, startWithPortRetry, stopOnce } from './background-process.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'relearn-start-'));
  dirs.push(dir);
  return dir;
}

/** A port held by this process until `close`. */
async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
  // Answers nothing and hangs up at once: a port someone else holds.
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A tiny HTTP server in a child process, as the service scripts start theirs. */
const HTTP_CHILD = `require('node:http').createServer((q, s) => s.end('OK')).listen(Number(process.argv[1]), '127.0.0.1')`;

describe(runCommand.name, () => {
  it('collects output and the exit code without rejecting on failure', async () => {
    const ok = await runCommand('sh', ['-c', 'echo out; echo err >&2']);
    expect([ok.code, ok.stdout, ok.output.split('\n').sort().join(' ').trim()]).toEqual([0, 'out\n', 'err out']);
    expect((await runCommand('sh', ['-c', 'exit 7'])).code).toBe(7);
    await expect(runCommand('/nonexistent/command', [])).rejects.toThrow(/ENOENT/);
  });

  it('ends a command that overruns its time', async () => {
    const result = await runCommand('sleep', ['30'], { timeoutMs: 200 });
    expect(result.code).toBeNull();
  });
});

describe(startWithPortRetry.name, () => {
  it('picks other ports when the picked ones were taken, three tries in all', async () => {
    const picked: number[] = [];
    const result = await startWithPortRetry(
      'Test',
      { fixed: false, pick: async () => picked.push(picked.length + 1) && picked.at(-1)!, log: () => undefined },
      async (port) => {
        if (port < 3) throw new PortTakenError(`port ${port} taken`);
        return port;
      },
    );
    expect([result, picked]).toEqual([3, [1, 2, 3]]);
    await expect(
      startWithPortRetry('Test', { fixed: false, pick: async () => 1, log: () => undefined }, async () => {
        throw new PortTakenError('always taken');
      }),
    ).rejects.toThrow('always taken');
  });

  it('tries a fixed port once, and does not retry other failures', async () => {
    let tries = 0;
    const taken = async () => {
      tries++;
      throw new PortTakenError('taken');
    };
    await expect(startWithPortRetry('Test', { fixed: true, pick: async () => 5, log: () => undefined }, taken)).rejects.toThrow(/taken/);
    expect(tries).toBe(1);
    const broken = async () => {
      tries++;
      throw new Error('no config');
    };
    await expect(startWithPortRetry('Test', { fixed: false, pick: async () => 5, log: () => undefined }, broken)).rejects.toThrow('no config');
    expect(tries).toBe(2);
  });
});

describe(stopOnce.name, () => {
  it('stops once however often it is called', async () => {
    let stops = 0;
    const stop = stopOnce(async () => {
      stops++;
    });
    await Promise.all([stop(), stop()]);
    await stop();
    expect(stops).toBe(1);
  });
});

describe(startHttpServer.name, () => {
  it('starts a server on a picked port, answers ready, and stops it once', async () => {
    const dir = await tempDir();
    const lines: string[] = [];
    const server = await startHttpServer({
      name: 'Child',
      ports: [0],
      command: process.execPath,
      args: ([port]) => ['-e', HTTP_CHILD, String(port)],
      logFile: path.join(dir, 'child.log'),
      readyPath: '/health',
      ready: (status, body) => status === 200 && body === 'OK',
      timeoutMs: 30_000,
      log: (line) => lines.push(line),
    });
    expect(await (await fetch(`${server.url}/health`)).text()).toBe('OK');
    await Promise.all([server.stop(), server.stop()]);
    expect(processAlive(server.pid)).toBe(false);
    expect(lines.filter((l) => l.startsWith('stopping Child'))).toHaveLength(1);
  });

  it('names the taken port when the caller fixed it', async () => {
    const dir = await tempDir();
    const held = await takenPort();
    try {
      await expect(
        startHttpServer({
          name: 'Child',
          ports: [held.port],
          command: process.execPath,
          args: ([port]) => ['-e', HTTP_CHILD, String(port)],
          logFile: path.join(dir, 'taken.log'),
          readyPath: '/health',
          timeoutMs: 30_000,
          log: () => undefined,
        }),
      ).rejects.toThrow(/Child failed to start: Child exited with code 1[\s\S]*EADDRINUSE/);
    } finally {
      await held.close();
    }
  });
});
