// Benchmark children: the same script forked with BENCH_ROLE set, talking to the parent over IPC,
// so that a server (or an abusive client) does not share the measuring process's event loop.
import { fork, type ChildProcess } from 'node:child_process';

export interface Child<FromChild extends { type: string }> {
  proc: ChildProcess;
  /** The next message of `type` (and matching `where`); rejects if the child exits first. */
  next<T extends FromChild['type']>(type: T, where?: (msg: Extract<FromChild, { type: T }>) => boolean): Promise<Extract<FromChild, { type: T }>>;
  send(message: object): void;
}

export function forkChild<FromChild extends { type: string }>(
  script: string,
  role: string,
  env: Record<string, string>,
  timeoutMs = 600_000,
): Child<FromChild> {
  const proc = fork(script, [], {
    // `--import tsx`, not the tsx CLI's own loader flags: Relearn's training worker
    // (server/src/training/train-in-worker.ts) only finds tsx when it is given this way.
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, BENCH_ROLE: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  proc.on('error', () => {}); // a send to a child that just exited (EPIPE): its exit is handled by next()
  return {
    proc,
    next: (type, where) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${role}: no ${type} within ${Math.round(timeoutMs / 60_000)} minutes`)), timeoutMs);
        const onExit = (code: number | null) => {
          clearTimeout(timer);
          reject(new Error(`${role} exited with ${code} before ${type}`));
        };
        proc.once('exit', onExit);
        const onMessage = (msg: FromChild) => {
          if (msg.type !== type || (where && !where(msg as never))) return;
          clearTimeout(timer);
          proc.off('message', onMessage);
          proc.off('exit', onExit);
          resolve(msg as never);
        };
        proc.on('message', onMessage);
      }),
    send: (message) => {
      if (proc.connected) proc.send(message, () => {});
    },
  };
}

/** Sends `stop` to each child still running and waits (at most `graceMs`, then kills) for it to exit. */
export async function stopChildren(children: ChildProcess[], graceMs = 20_000): Promise<void> {
  for (const c of [...children].reverse()) {
    if (c.exitCode === null && c.connected) c.send({ cmd: 'stop' }, () => {});
  }
  await Promise.all(
    children.map((c) =>
      c.exitCode !== null
        ? null
        : new Promise((r) => {
            const t = setTimeout(() => {
              c.kill();
              r(null);
            }, graceMs);
            c.once('exit', () => {
              clearTimeout(t);
              r(null);
            });
          }),
    ),
  );
}

/** Runs this script as the child named by BENCH_ROLE, or as the benchmark (`main`'s answer is the exit code). */
export function runBenchmark(main: () => Promise<number>, roles: Record<string, () => Promise<void>>): void {
  const role = process.env.BENCH_ROLE;
  if (role) {
    const run = roles[role];
    if (!run) throw new Error(`unknown BENCH_ROLE ${role}`);
    run().catch((error: unknown) => {
      console.error(`[bench ${role}]`, error);
      process.exit(1);
    });
  } else {
    main().then(
      (code) => process.exit(code),
      (error: unknown) => {
        console.error(error);
        process.exit(2);
      },
    );
  }
}
