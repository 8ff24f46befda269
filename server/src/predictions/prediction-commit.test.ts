import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { aFraudInput, startTestApp, SUBMIT_FEEDBACK, type TestApp } from '../../test/test-app.js';

/**
 * PREDICTION_COMMIT=async turns synchronous_commit off for prediction transactions only. Seen
 * from inside each transaction: statement triggers on `prediction` and `feedback` (added to the
 * test database, not to the schema) record `current_setting('synchronous_commit')` as it is when
 * the rows are written, i.e. what the transaction's commit will use.
 */

const PREDICT = `mutation($input: PredictInput!) { predict(input: $input) { id } }`;
const PREDICT_BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;

let databaseUrl: string;
let db: pg.Client;
const apps: TestApp[] = [];

beforeAll(async () => {
  databaseUrl = await freshDatabaseUrl('relearn');
  // The test server runs with synchronous_commit off for speed: this database commits as a real one does.
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`alter database "${new URL(databaseUrl).pathname.slice(1)}" set synchronous_commit = on`);
  await admin.end();
  // The first app creates the tables (migrations) and trains the models; triggers go on after.
  apps.push(await startTestApp({ databaseUrl, env: { PREDICTION_COMMIT: 'async' } }));
  apps.push(await startTestApp({ databaseUrl, env: { PREDICTION_COMMIT: 'sync' } }));
  db = new pg.Client({ connectionString: databaseUrl });
  db.on('error', () => {});
  await db.connect();
  await db.query(`
    create table commit_seen (tbl text not null, setting text not null, at timestamptz not null default clock_timestamp());
    create function record_commit_setting() returns trigger language plpgsql as $$
      begin
        insert into commit_seen (tbl, setting) values (tg_table_name, current_setting('synchronous_commit'));
        return null;
      end $$;
    create trigger prediction_commit_seen after insert on prediction for each statement execute function record_commit_setting();
    create trigger feedback_commit_seen after insert on feedback for each statement execute function record_commit_setting();`);
}, 240_000);

afterAll(async () => {
  await db?.end();
  for (const app of apps) await app.stop();
});

/** The settings seen since the last call, per table. */
async function seen(): Promise<Record<string, string[]>> {
  const { rows } = await db.query<{ tbl: string; setting: string }>(`delete from commit_seen returning tbl, setting`);
  const by: Record<string, string[]> = {};
  for (const r of rows) (by[r.tbl] ??= []).push(r.setting);
  for (const v of Object.values(by)) v.sort();
  return by;
}

async function predictAndTeach(app: TestApp) {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await app.gql(PREDICT, { input: { fraud: aFraudInput({ amount: 10 + i }) } });
    expect(r.errors).toBeUndefined();
    ids.push(r.data.predict.id);
  }
  const batch = await app.gql(PREDICT_BATCH, { inputs: [{ fraud: aFraudInput() }, { spam: { text: 'win money now' } }] });
  expect(batch.errors).toBeUndefined();
  for (const id of ids) {
    const f = await app.gql(SUBMIT_FEEDBACK, { input: { predictionId: id, correct: true } });
    expect(f.errors).toBeUndefined();
  }
}

describe('PREDICTION_COMMIT', () => {
  it('the server default is synchronous, and nothing was written yet', async () => {
    const { rows } = await db.query<{ s: string }>(`select current_setting('synchronous_commit') as s`);
    expect(rows[0]!.s).toBe('on');
    expect(await seen()).toEqual({});
  });

  it('async: prediction transactions commit with synchronous_commit off, feedback on the same pool stays on', async () => {
    await predictAndTeach(apps[0]!);
    const by = await seen();
    expect(by.prediction!.length).toBeGreaterThanOrEqual(2);
    expect(new Set(by.prediction)).toEqual(new Set(['off']));
    expect(by.feedback).toEqual(['on', 'on', 'on']);
  });

  it('sync: every transaction commits synchronously', async () => {
    await predictAndTeach(apps[1]!);
    const by = await seen();
    expect(new Set(by.prediction)).toEqual(new Set(['on']));
    expect(by.feedback).toEqual(['on', 'on', 'on']);
  });

  it('async leaves no setting behind on its connections: a plain statement on the pool afterwards is synchronous', async () => {
    await predictAndTeach(apps[0]!);
    await seen();
    // The app's own pool: a readiness probe's query runs on one of the connections predictions used.
    const { sql } = await import('kysely');
    const settings = await Promise.all(
      Array.from({ length: 8 }, () =>
        sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(apps[0]!.app.orm.em.getKysely()).then((r) => r.rows[0]!.s),
      ),
    );
    expect(new Set(settings)).toEqual(new Set(['on']));
  });
});
