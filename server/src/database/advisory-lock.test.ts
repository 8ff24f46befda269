import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { lockFor } from './advisory-lock.js';
import { initORM, type Orm } from './orm.js';

describe(lockFor.name, () => {
  let orm: Orm;
  beforeAll(async () => {
    orm = await initORM(await freshDatabaseUrl('relearn'), { migrate: false });
  });
  afterAll(() => orm?.close());

  /** Sessions waiting for an advisory lock right now (what PostgreSQL says, not a guess from time). */
  const waiting = async () => {
    const { rows } = await sql<{ n: string }>`select count(*) as n from pg_locks where locktype = 'advisory' and not granted`.execute(orm.em.getKysely());
    return Number(rows[0]!.n);
  };

  it('holds a key until the transaction ends: the same key waits, another key does not', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const firstHasIt = new Promise<void>((r) => (locked = r));
    const first = orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, 'relearn:model:fraud');
      locked();
      await held;
      order.push('first commits');
    });
    await firstHasIt;
    const second = orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, 'relearn:model:fraud');
      order.push('second has the lock');
    });
    await expect.poll(waiting, { timeout: 10_000, interval: 20 }).toBe(1);
    // Another key (and another kind of lock on the same model) is not held up.
    await orm.em.fork().transactional(async (tx) => {
      await lockFor(tx, 'relearn:model:spam');
      await lockFor(tx, 'relearn:retrain:fraud');
    });
    expect(order).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first commits', 'second has the lock']);
    expect(await waiting()).toBe(0);
  });

  it('is released by a rollback too', async () => {
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await lockFor(tx, 'relearn:alert:fraud');
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await orm.em.fork().transactional((tx) => lockFor(tx, 'relearn:alert:fraud'));
    expect(await waiting()).toBe(0);
  });
});
