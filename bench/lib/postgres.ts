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
  /** Turns WAL fsync timing on (pg_stat_wal.wal_sync_time), for activity(). */
  timeWalSyncs(): Promise<void>;
  /** Cumulative counters to take differences of around a run (PostgreSQL flushes them at most once a second). */
  activity(): Promise<PostgresActivity>;
  /** Stops the client and the server, removes the data and the migrator's schema snapshot. */
  stop(): Promise<void>;
}

export interface PostgresActivity {
  /** WAL fsyncs, their total ms, WAL bytes and full-page images written. */
  syncs: number;
  syncMs: number;
  walBytes: number;
  fpi: number;
  /** Transactions committed in the benchmark's database. */
  commits: number;
  checkpoints: number;
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
      async timeWalSyncs() {
        await db.query('alter system set track_wal_io_timing = on');
        await db.query('select pg_reload_conf()');
      },
      async activity() {
        const w = (
          await db.query<{ s: string; t: number; b: string; f: string }>(
            'select wal_sync as s, wal_sync_time as t, wal_bytes as b, wal_fpi as f from pg_stat_wal',
          )
        ).rows[0]!;
        const x = (await db.query<{ c: string }>('select xact_commit as c from pg_stat_database where datname = current_database()')).rows[0]!;
        const k = (await db.query<{ n: string }>('select checkpoints_timed + checkpoints_req as n from pg_stat_bgwriter')).rows[0]!;
        return { syncs: Number(w.s), syncMs: Number(w.t), walBytes: Number(w.b), fpi: Number(w.f), commits: Number(x.c), checkpoints: Number(k.n) };
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
