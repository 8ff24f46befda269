// A private PostgreSQL a test may stop (fast or immediate, i.e. a crash) and start again on the
// same port and data, the way an operator or a failover would.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensurePostgresInstalled, startPostgres, stopPostgresCluster } from '../../scripts/services/postgres.js';

export interface RestartablePostgres {
  /** Superuser URL of the `postgres` database; the same across restarts. */
  url: string;
  port: number;
  dataDir: string;
  /** `pg_ctl stop -m <mode>`, waiting until the server is gone. */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good (end of the test). */
  close(): Promise<void>;
}

/** Runs pg_ctl as the `postgres` OS user when this process is root (PostgreSQL refuses root), like scripts/services/postgres.ts. */
async function pgCtl(args: string[]): Promise<void> {
  const pgCtlPath = path.join(await ensurePostgresInstalled(), 'pg_ctl');
  const [command, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', pgCtlPath, ...args]] : [pgCtlPath, args];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${args.join(' ')} exited ${code}: ${output}`))));
  });
}

export async function startRestartablePostgres(dataDir: string, log?: (msg: string) => void): Promise<RestartablePostgres> {
  // Durable (fsync, synchronous_commit on): an acknowledged commit must survive `-m immediate`.
  const first = await startPostgres({ dataDir, durable: true, log });
  const { url, port } = first;
  return {
    url,
    port,
    dataDir,
    stop: (mode) => pgCtl(['-D', dataDir, '-m', mode, '-w', 'stop']),
    async start() {
      await startPostgres({ dataDir, port, durable: true, log, stopOnExit: false });
    },
    close: () => stopPostgresCluster(dataDir),
  };
}
