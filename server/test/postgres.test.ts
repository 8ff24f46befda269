// The test harness itself: a real PostgreSQL server, one fresh database per call.
import { describe, expect, it } from 'vitest';
import { connectPg } from '../../scripts/services/postgres.js';
import { freshDatabaseUrl } from './database.js';

describe('test PostgreSQL harness', () => {
  it('creates a table, inserts and reads back a row in a fresh database', async () => {
    const url = await freshDatabaseUrl('Harness-Test');
    expect(new URL(url).pathname).toMatch(/^\/harness_test_[0-9a-f]+$/);
    const client = await connectPg(url);
    try {
      await client.query('create table item (id serial primary key, name text not null, created_at timestamptz not null default now())');
      await client.query('insert into item (name) values ($1)', ['first']);
      const { rows } = await client.query<{ id: number; name: string }>('select id, name from item');
      expect(rows).toEqual([{ id: 1, name: 'first' }]);
      const { rows: version } = await client.query<{ server_version_num: string }>('show server_version_num');
      expect(Number(version[0]?.server_version_num)).toBeGreaterThanOrEqual(130000);
    } finally {
      await client.end();
    }
  });

  it('gives two fresh databases that are distinct and isolated', async () => {
    const [urlA, urlB] = await Promise.all([freshDatabaseUrl('harness'), freshDatabaseUrl('harness')]);
    expect(urlA).not.toBe(urlB);
    const a = await connectPg(urlA);
    const b = await connectPg(urlB);
    try {
      const nameA = (await a.query<{ db: string }>('select current_database() as db')).rows[0]?.db;
      const nameB = (await b.query<{ db: string }>('select current_database() as db')).rows[0]?.db;
      expect(nameA).toBe(new URL(urlA).pathname.slice(1));
      expect(nameB).toBe(new URL(urlB).pathname.slice(1));
      expect(nameA).not.toBe(nameB);

      await a.query('create table only_in_a (x int)');
      const inB = await b.query("select to_regclass('public.only_in_a') as t");
      expect(inB.rows[0]).toEqual({ t: null });
      const fresh = await b.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
      expect(fresh.rows[0]).toEqual({ n: 0 });
    } finally {
      await a.end();
      await b.end();
    }
  });
});
