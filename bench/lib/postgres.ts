// A private, durable PostgreSQL (fsync on) for one benchmark run, with a database of its own,
// and the statistics the benchmarks report.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { connectPg, createDatabase, startPostgres, type PgClient } from '../../scripts/services/postgres.js';
import { ROOT } from './report.js';

export interface BenchPostgres {
  /** URL of the benchmark's database. */
  url: string;
  /** A client on it, for the benchmark's own queries. */
  db: PgClient;
  dataDir: string;
  /** Version, filesystem and the named settings (current_setting). */
  describe(settings: string[]): Promise<Record<string, string>>;
  /** Stops the client and the server, removes the data and the migrator's schema snapshot. */
  stop(): Promise<void>;
}

export async function startBenchPostgres(dbName: string): Promise<BenchPostgres> {
  // Its own temp dir: startPostgres hands it to the postgres OS user when this process is root.
  const dataDir = mkdtempSync(join(os.tmpdir(), `${dbName.replaceAll('_', '-')}-pg-`));
  // MikroORM's migrator writes a schema snapshot named after the database into migrations/: remove ours.
  const snapshot = join(ROOT, 'migrations', `.snapshot-${dbName}.json`);
  const snapshotExisted = existsSync(snapshot);
  const cleanUp = () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (!snapshotExisted) rmSync(snapshot, { force: true });
  };
  let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    pg = await startPostgres({ dataDir, durable: true });
    const url = await createDatabase(pg.url, dbName);
    const db = await connectPg(url);
    const server = pg;
    return {
      url,
      db,
      dataDir,
      async describe(settings) {
        const described: Record<string, string> = {
          version: (await db.query<{ v: string }>('select version() as v')).rows[0]!.v.split(' on ')[0]!,
        };
        for (const name of settings) described[name] = (await db.query<{ v: string }>('select current_setting($1) as v', [name])).rows[0]!.v;
        described.filesystem = spawnSync('stat', ['-f', '-c', '%T', dataDir], { encoding: 'utf8' }).stdout.trim();
        return described;
      },
      async stop() {
        await db.end().catch(() => undefined);
        await server.stop().catch((e: Error) => console.error(e.message));
        cleanUp();
      },
    };
  } catch (error) {
    await pg?.stop().catch(() => undefined);
    cleanUp();
    throw error;
  }
}
