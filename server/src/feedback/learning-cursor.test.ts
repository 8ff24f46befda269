import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { parseSnapshot, seenBy, visibleIn } from './learning-cursor.js';

describe('learning cursor', () => {
  it('parses pg_snapshot text, with and without transactions in progress', () => {
    expect(parseSnapshot('10:20:')).toEqual({ xmin: 10n, xmax: 20n, inProgress: new Set() });
    expect(parseSnapshot('10:20:12,15')).toEqual({ xmin: 10n, xmax: 20n, inProgress: new Set([12n, 15n]) });
    expect(() => parseSnapshot('garbage')).toThrow(/not a pg_snapshot/);
  });

  it('covers rows by id for versions stored before snapshots (an id cursor)', () => {
    expect(seenBy({ kind: 'id', throughId: 5 }, { id: 5, xid: 999n })).toBe(true);
    expect(seenBy({ kind: 'id', throughId: 5 }, { id: 6, xid: 1n })).toBe(false);
  });

  describe('against PostgreSQL', () => {
    const clients: pg.Client[] = [];
    let url: string;
    const connect = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      clients.push(c);
      return c;
    };
    beforeAll(async () => {
      url = await freshDatabaseUrl('cursor');
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.end()));
    });

    it('decides visibility exactly as pg_visible_in_snapshot, for committed, in-progress and later transactions', async () => {
      const [observer, early, late] = [await connect(), await connect(), await connect()];
      await observer.query('create table t (id serial, xid xid8 not null default pg_current_xact_id())');
      await observer.query('insert into t default values'); // committed before the snapshot
      await early.query('begin');
      await early.query('insert into t default values'); // in progress when the snapshot is taken
      const { rows: snap } = await observer.query<{ s: string }>('select pg_current_snapshot()::text as s');
      const snapshot = snap[0]!.s;
      await late.query('insert into t default values'); // begins and commits after the snapshot
      await early.query('commit'); // commits after the snapshot, with the lower id
      const { rows } = await observer.query<{ id: number; xid: string; visible: boolean }>(
        `select id, xid::text, pg_visible_in_snapshot(xid, $1::pg_snapshot) as visible from t order by id`,
        [snapshot],
      );
      expect(rows.map((r) => r.visible)).toEqual([true, false, false]);
      const parsed = parseSnapshot(snapshot);
      expect(rows.map((r) => visibleIn(parsed, BigInt(r.xid)))).toEqual([true, false, false]);
      expect(seenBy({ kind: 'snapshot', snapshot }, { id: rows[1]!.id, xid: BigInt(rows[1]!.xid) })).toBe(false);
    });
  });
});
