import { connect, type Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PGliteWireServer } from './pglite-wire-server.js';

/** A raw socket to the server, for what node-postgres never sends. */
function rawSocket(port: number) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let received = Buffer.alloc(0);
  socket.on('data', (d) => (received = Buffer.concat([received, d])));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    closed,
    received: () => received,
    /** Resolves once the bytes received satisfy `done` (bounded by the test's timeout). */
    async until(done: (bytes: Buffer) => boolean) {
      while (!done(received)) {
        if (socket.destroyed) throw new Error(`closed after ${JSON.stringify(received.toString('latin1'))}`);
        await new Promise((r) => socket.once('data', r).once('close', r));
      }
    },
  };
}

function startupPacket(params: Record<string, string>, code = 196608): Buffer {
  const body = Buffer.from(
    Object.entries(params)
      .map(([k, v]) => `${k}\0${v}\0`)
      .join('') + '\0',
  );
  const packet = Buffer.alloc(8 + body.length);
  packet.writeInt32BE(8 + body.length, 0);
  packet.writeInt32BE(code, 4);
  body.copy(packet, 8);
  return packet;
}

/** SSLRequest and GSSENCRequest: a length of 8 and a code. */
function codePacket(code: number): Buffer {
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8, 0);
  packet.writeInt32BE(code, 4);
  return packet;
}

function message(type: string, body: Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.write(type, 0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** ReadyForQuery with its status byte, as it ends the server's answer. */
const endsWithReady = (bytes: Buffer) => bytes.length >= 6 && bytes[bytes.length - 6] === 0x5a;

describe(PGliteWireServer.name, () => {
  let db: PGlite;
  let sut: PGliteWireServer;
  const clients: pg.Client[] = [];
  const client = async () => {
    const c = new pg.Client({ connectionString: `postgresql://postgres:postgres@${sut.address}/postgres` });
    c.on('error', () => {});
    await c.connect();
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    db = await PGlite.create();
    sut = new PGliteWireServer(db);
    await sut.start();
    const setup = await client();
    await setup.query('create table t (id serial primary key, client int not null, n int not null, tag text not null)');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await sut?.stop();
    await db?.close();
  });

  it('gives each of many concurrent clients its own answers to parameterised queries of different shapes and to its transactions', async () => {
    const CLIENTS = 16;
    const ROUNDS = 30;
    const committed = new Map<number, number>();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, me) => {
        const c = await client();
        committed.set(me, 0);
        for (let i = 0; i < ROUNDS; i++) {
          const one = await c.query('select $1::int * $2::int as product, $3::text as tag', [me, i, `c${me}-${i}`]);
          expect(one.rows).toEqual([{ product: me * i, tag: `c${me}-${i}` }]);
          const width = 1 + ((me + i) % 4); // 1 to 4 rows: 3, 5, 7 or 9 parameters
          const values = Array.from({ length: width }, (_, k) => `($1, $${2 + 2 * k}, $${3 + 2 * k})`).join(', ');
          const params = [me, ...Array.from({ length: width }, (_, k) => [1000 * i + k, `c${me}-${i}-${k}`]).flat()];
          const inserted = await c.query(`insert into t (client, n, tag) values ${values} returning client, n, tag`, params);
          expect(inserted.rows).toEqual(Array.from({ length: width }, (_, k) => ({ client: me, n: 1000 * i + k, tag: `c${me}-${i}-${k}` })));
          committed.set(me, committed.get(me)! + width);
          // A transaction sees its own rows; a rolled-back one leaves nothing.
          await c.query('begin');
          await c.query('insert into t (client, n, tag) values ($1, $2, $3)', [me, -i, 'tx']);
          const seen = await c.query('select count(*)::int as n from t where client = $1', [me]);
          expect(seen.rows[0].n).toBe(committed.get(me)! + 1);
          if (i % 3 === 0) {
            await c.query('rollback');
          } else {
            await c.query('commit');
            committed.set(me, committed.get(me)! + 1);
          }
        }
      }),
    );
    const check = await client();
    const { rows } = await check.query('select client, count(*)::int as n from t group by client order by client');
    expect(rows).toEqual([...committed].sort(([a], [b]) => a - b).map(([me, n]) => ({ client: me, n })));
  });

  it("answers one connection's failing queries with errors while the others carry on", async () => {
    const failing = await client();
    const others = await Promise.all(Array.from({ length: 6 }, () => client()));
    const errors: string[] = [];
    const work = others.map(async (c, me) => {
      for (let i = 0; i < 40; i++) expect((await c.query('select $1::int + $2::int as s', [me, i])).rows).toEqual([{ s: me + i }]);
    });
    for (let i = 0; i < 20; i++) {
      await failing.query('select 1 / $1::int', [0]).catch((e) => errors.push(e.code));
      await failing.query('select * from no_such_table where id = $1', [i]).catch((e) => errors.push(e.code));
      await failing.query('begin');
      await failing.query('select 1 / 0').catch((e) => errors.push(e.code));
      await failing.query('select 1').catch((e) => errors.push(e.code)); // aborted transaction
      await failing.query('rollback');
    }
    await Promise.all(work);
    expect(errors).toEqual(Array.from({ length: 20 }, () => ['22012', '42P01', '22012', '25P02']).flat());
    expect((await failing.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('rolls back the transaction of a connection that goes away, and lets the connections waiting behind it run', async () => {
    const doomed = await client();
    const waiting = await Promise.all(Array.from({ length: 4 }, () => client()));
    await doomed.query('begin');
    await doomed.query("insert into t (client, n, tag) values (99, 1, 'doomed')");
    // These wait: the backend belongs to the open transaction.
    const answers = waiting.map((c, k) => c.query('select $1::int as k', [k]));
    await vi.waitFor(() => expect(sut.stats.waiting).toBeGreaterThanOrEqual(4), { timeout: 20_000, interval: 5 });
    (doomed as any).connection.stream.destroy();
    expect((await Promise.all(answers)).map((r) => r.rows[0].k)).toEqual([0, 1, 2, 3]);
    const check = await client();
    expect((await check.query("select count(*)::int as n from t where tag = 'doomed'")).rows[0].n).toBe(0);
    expect(db.isInTransaction()).toBe(false);
  });

  it('finishes the half-done extended-protocol cycle of a connection that goes away after Parse and Flush', async () => {
    const raw = rawSocket(sut.port);
    raw.socket.write(startupPacket({ user: 'postgres', database: 'postgres' }));
    await raw.until(endsWithReady);
    const before = raw.received().length;
    raw.socket.write(Buffer.concat([message('P', Buffer.from('\0select 1\0\0\0')), message('H', Buffer.alloc(0))]));
    await raw.until((b) => b.length > before && b[before] === 0x31); // ParseComplete
    raw.socket.destroy();
    await raw.closed;
    const c = await client();
    expect((await c.query('select $1::text as x', ['after'])).rows).toEqual([{ x: 'after' }]);
  });

  it('runs what a connection sent before Terminate, then closes it (rolling back a transaction left open)', async () => {
    const query = (text: string) => message('Q', Buffer.from(`${text}\0`));
    const terminate = message('X', Buffer.alloc(0));
    const committing = rawSocket(sut.port);
    committing.socket.write(startupPacket({ user: 'postgres', database: 'postgres' }));
    await committing.until(endsWithReady);
    committing.socket.write(Buffer.concat([query("insert into t (client, n, tag) values (97, 1, 'before-terminate')"), terminate]));
    await committing.closed;
    const leaving = rawSocket(sut.port);
    leaving.socket.write(startupPacket({ user: 'postgres', database: 'postgres' }));
    await leaving.until(endsWithReady);
    leaving.socket.write(Buffer.concat([query('begin'), query("insert into t (client, n, tag) values (97, 2, 'left-open')"), terminate]));
    await leaving.closed;
    const c = await client();
    const { rows } = await c.query('select tag from t where client = 97 order by n');
    expect(rows).toEqual([{ tag: 'before-terminate' }]);
    expect(db.isInTransaction()).toBe(false);
  });

  it('answers SSL and GSS encryption requests with N, drops cancel requests, refuses a startup packet without a user, and keeps serving', async () => {
    const ssl = rawSocket(sut.port);
    ssl.socket.write(codePacket(80877103));
    await ssl.until((b) => b.length >= 1);
    expect(ssl.received().toString()).toBe('N');
    ssl.socket.write(startupPacket({ user: 'postgres', database: 'postgres' }));
    await ssl.until(endsWithReady);
    ssl.socket.destroy();

    const gss = rawSocket(sut.port);
    gss.socket.write(codePacket(80877104));
    await gss.until((b) => b.length >= 1);
    expect(gss.received().toString()).toBe('N');
    gss.socket.destroy();

    const cancel = rawSocket(sut.port);
    const request = Buffer.alloc(16);
    request.writeInt32BE(16, 0);
    request.writeInt32BE(80877102, 4);
    cancel.socket.write(request);
    await cancel.closed;
    expect(cancel.received().length).toBe(0);

    // PGlite itself would exit for good on this one (a FATAL error in its only backend).
    const nouser = rawSocket(sut.port);
    nouser.socket.write(startupPacket({ database: 'postgres' }));
    await nouser.closed;
    expect(nouser.received().toString('latin1')).toContain('C28000');

    const garbage = rawSocket(sut.port);
    garbage.socket.write(Buffer.from([0, 0, 0, 8, 0, 9, 0, 0]));
    await garbage.closed;
    expect(garbage.received().toString('latin1')).toContain('C08P01');

    const c = await client();
    expect((await c.query('select $1::int as ok', [1])).rows).toEqual([{ ok: 1 }]);
  });

  it('closes a connection whose message cannot be framed, and no other', async () => {
    const bystander = await client();
    const raw = rawSocket(sut.port);
    raw.socket.write(startupPacket({ user: 'postgres', database: 'postgres' }));
    await raw.until(endsWithReady);
    raw.socket.write(Buffer.from([0x51, 0xff, 0xff, 0xff, 0xff])); // a Query of length -1
    await raw.closed;
    expect(raw.received().toString('latin1')).toContain('C08P01');
    expect((await bystander.query('select $1::int as ok', [2])).rows).toEqual([{ ok: 2 }]);
  });

  it('says which connection holds the database when others have waited behind its transaction', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (fields: unknown, msg: string) => warnings.push({ fields, msg }), error: () => {} };
    const watched = new PGliteWireServer(db, { logger: logger as any, slowHoldWarningMs: 50 });
    await watched.start();
    const open = async () => {
      const c = new pg.Client({ connectionString: `postgresql://postgres:postgres@${watched.address}/postgres` });
      c.on('error', () => {});
      await c.connect();
      return c;
    };
    const [holder, waiter] = [await open(), await open()];
    await holder.query('begin');
    const waited = waiter.query('select 1 as one');
    await vi.waitFor(() => expect(warnings.length).toBeGreaterThan(0), { timeout: 20_000, interval: 10 });
    expect(warnings[0]).toMatchObject({ fields: { waiting: 1 }, msg: expect.stringMatching(/held the database/) });
    await holder.query('commit');
    expect((await waited).rows).toEqual([{ one: 1 }]);
    await Promise.all([holder.end(), waiter.end()]);
    await watched.stop();
  });

  it('stops with connections open, one of them in a transaction, leaving PGlite idle', async () => {
    const other = new PGliteWireServer(db);
    await other.start();
    const c = new pg.Client({ connectionString: `postgresql://postgres:postgres@${other.address}/postgres` });
    c.on('error', () => {});
    await c.connect();
    await c.query('begin');
    await c.query("insert into t (client, n, tag) values (98, 1, 'at-stop')");
    await other.stop();
    expect(db.isInTransaction()).toBe(false);
    const check = await client();
    expect((await check.query("select count(*)::int as n from t where tag = 'at-stop'")).rows[0].n).toBe(0);
  });
});
