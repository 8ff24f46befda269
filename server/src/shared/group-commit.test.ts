import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';
import type { PredictionService } from '../predictions/prediction-service.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import { GroupCommit, isDataError } from './group-commit.js';

/** The prediction writer's internals, reached from a test only: rows that skip validation. */
interface WriterInternals {
  writer: GroupCommit<PredictionRecord, void>;
  insert(rows: PredictionRecord[]): Promise<void[]>;
}

describe(GroupCommit.name, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.stop());

  async function storedCount(ids: string[]): Promise<number> {
    const { rows } = await sql<{ n: string }>`select count(*) as n from prediction where id = any(${ids}::uuid[])`.execute(app.app.orm.em.getKysely());
    return Number(rows[0]!.n);
  }

  it('commits every innocent row of a batch that also holds rows the database refuses', async () => {
    const predictions = app.app.services.predictions as PredictionService;
    const internals = predictions as unknown as WriterInternals;
    const live = app.app.services.models.getLive('fraud')!;
    // Watch every statement: proof that bad rows really shared full batches with good ones.
    const batches: { size: number; failed: boolean }[] = [];
    const insert = internals.insert.bind(predictions);
    internals.insert = async (rows) => {
      try {
        const out = await insert(rows);
        batches.push({ size: rows.length, failed: false });
        return out;
      } catch (error) {
        batches.push({ size: rows.length, failed: true });
        throw error;
      }
    };
    // Kind 0 breaks a foreign key (SQLSTATE 23503), kind 1 puts NUL into jsonb (22P05).
    const bad = (kind: number): PredictionRecord => ({
      id: randomUUID(),
      model: 'fraud',
      modelVersionId: kind === 0 ? 2_000_000_000 : live.versionId,
      version: live.version,
      input: kind === 1 ? { ...aFraudInput(), merchantCategory: 'gro\u0000cery' } : aFraudInput(),
      label: 'legit',
      probability: 0.5,
      scores: [],
      latencyMs: 1,
      createdAt: new Date(),
    });
    try {
      const rounds = 8;
      const goodPerRound = 300;
      const badIds: string[] = [];
      const goodIds: string[] = [];
      let innocentFailures = 0;
      let badRefused = 0;
      for (let round = 0; round < rounds; round++) {
        const work: Promise<unknown>[] = [];
        for (let i = 0; i < goodPerRound; i++) {
          // Four concurrent "bad clients" among the good ones, spread through the round.
          if (i % 75 === 10) {
            const record = bad(i % 2);
            badIds.push(record.id);
            work.push(
              internals.writer.submit(record).then(
                () => {},
                () => void badRefused++,
              ),
            );
          }
          work.push(
            predictions.predict('fraud', aFraudInput({ amount: 10 + i })).then(
              (r) => void goodIds.push(r.id),
              () => void innocentFailures++,
            ),
          );
        }
        await Promise.all(work);
      }
      expect(innocentFailures).toBe(0);
      expect(goodIds).toHaveLength(rounds * goodPerRound);
      expect(badRefused).toBe(badIds.length);
      expect(await storedCount(goodIds)).toBe(goodIds.length);
      expect(await storedCount(badIds)).toBe(0);
      // Bad rows were in batches of hundreds, and those batches failed before being split.
      expect(batches.filter((b) => b.failed && b.size >= 100).length).toBeGreaterThan(0);
    } finally {
      internals.insert = insert;
    }
  });

  it('splits only on errors about the data: SQLSTATE classes 22 and 23', async () => {
    const client = new pg.Client({ connectionString: (app.app.config.databaseUrl ?? undefined)! });
    await client.connect();
    try {
      const refused = async (query: string) =>
        client.query(query).then(
          () => null,
          (error: unknown) => error,
        );
      expect(isDataError(await refused(`select '{"a":"\\u0000"}'::jsonb`))).toBe(true);
      expect(isDataError(await refused(`select 1/0`))).toBe(true);
      expect(isDataError(await refused(`insert into prediction (id) values (null)`))).toBe(true);
      expect(isDataError(await refused(`select * from no_such_table`))).toBe(false);
      expect(isDataError(await refused(`select pg_sleep(1) from (select set_config('statement_timeout', '1', false)) s`))).toBe(false);
    } finally {
      await client.end();
    }
    expect(isDataError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isDataError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isDataError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '23505' }) }))).toBe(true);
  });

  it('fails a whole batch at once, unsplit, when the connection is lost', async () => {
    const client = new pg.Client({ connectionString: (app.app.config.databaseUrl ?? undefined)! });
    client.on('error', () => {}); // the terminated connection reports here too
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const killer = new pg.Client({ connectionString: (app.app.config.databaseUrl ?? undefined)! });
    await killer.connect();
    await killer.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    await killer.end();

    let statements = 0;
    const sut = new GroupCommit<number, number>(
      async (items) => {
        statements++;
        await client.query('select $1::int[]', [items]);
        return items;
      },
      { maxBatch: 100, concurrency: 1 },
    );
    const first = sut.submit(0).then(
      () => 'ok',
      (e: unknown) => e,
    );
    const rest = Array.from({ length: 50 }, (_, i) =>
      sut.submit(i + 1).then(
        () => 'ok',
        (e: unknown) => e,
      ),
    );
    const answers = await Promise.all([first, ...rest]);
    expect(answers.every((a) => a instanceof Error)).toBe(true);
    // One statement for the first item, one for the 50 gathered behind it: nothing split.
    expect(statements).toBe(2);
    await client.end().catch(() => {});
  });
});
