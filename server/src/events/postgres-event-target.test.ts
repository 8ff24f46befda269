import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg } from '../../../scripts/services/postgres.js';
import { startRestartablePostgres, type RestartablePostgres } from '../../test/restartable-postgres.js';
import { startTcpProxy } from '../../test/tcp-proxy.js';
import { createLogger } from '../logger.js';
import { loadConfig } from '../config.js';
import { MAX_PAYLOAD_BYTES, PostgresEventTarget } from './postgres-event-target.js';

const logger = createLogger(loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LOG_PRETTY: 'false' }));

/** Resolves with the detail of the next `type` event the target delivers. */
function nextEvent(target: PostgresEventTarget, type: string, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms`)), timeoutMs);
    target.addEventListener(
      type,
      (e) => {
        clearTimeout(timer);
        resolve((e as CustomEvent).detail);
      },
      { once: true },
    );
  });
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe(PostgresEventTarget.name, () => {
  let dir: string;
  let pg: RestartablePostgres;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'relearn-events-'));
    pg = await startRestartablePostgres(dir);
  });

  afterAll(async () => {
    await pg?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const listenConnections = async () => {
    const admin = await connectPg(pg.url);
    try {
      const { rows } = await admin.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity where application_name = 'relearn-events' and query = 'LISTEN relearn_events'`,
      );
      return Number(rows[0]!.n);
    } finally {
      await admin.end();
    }
  };

  it.each(['fast', 'immediate'] as const)(
    'survives a PostgreSQL stop -m %s with idle publisher and listener connections, LISTENs again when it is back, and says so',
    async (mode) => {
      const sut = await PostgresEventTarget.connect(pg.url, logger, { minDelayMs: 50, maxDelayMs: 500 });
      try {
        let reconnects = 0;
        sut.onReconnect(() => void reconnects++);
        // A publish leaves an idle client in the publisher pool: the one that used to kill the process.
        const heard = nextEvent(sut, 'ping');
        sut.dispatchEvent(new CustomEvent('ping', { detail: { n: 1 } }));
        expect(await heard).toEqual({ n: 1 });

        await pg.stop(mode);
        await until(() => !sut.listening, 'the listener to notice');
        // An outage of several reconnect attempts (the old code tried once, a second later, and gave up).
        await sleep(1500);
        // Publishing while the database is away fails quietly.
        sut.dispatchEvent(new CustomEvent('ping', { detail: { n: 2 } }));
        await pg.start();

        await until(() => reconnects === 1, 'onReconnect');
        expect(sut.listening).toBe(true);
        expect(await listenConnections()).toBe(1);
        const again = nextEvent(sut, 'ping');
        sut.dispatchEvent(new CustomEvent('ping', { detail: { n: 3 } }));
        expect(await again).toEqual({ n: 3 });
      } finally {
        await sut.close();
      }
    },
    60_000,
  );

  it('notices a partition (no reset, no error: silence) by its heartbeat, and LISTENs again once it heals', async () => {
    const proxy = await startTcpProxy(pg.url);
    const viaProxy = new URL(pg.url);
    viaProxy.port = String(proxy.port);
    const sut = await PostgresEventTarget.connect(viaProxy.toString(), logger, { minDelayMs: 50, maxDelayMs: 200, heartbeatMs: 100, heartbeatTimeoutMs: 300 });
    try {
      let reconnects = 0;
      sut.onReconnect(() => void reconnects++);
      proxy.stall();
      await until(() => !sut.listening, 'the heartbeat to give up on the silent connection');
      await proxy.up();
      await until(() => reconnects === 1, 'onReconnect');
      const heard = nextEvent(sut, 'ping');
      sut.dispatchEvent(new CustomEvent('ping', { detail: 'after the partition' }));
      expect(await heard).toBe('after the partition');
    } finally {
      await sut.close();
      await proxy.close();
    }
  });

  it('stops trying once closed, even in the middle of an outage', async () => {
    const sut = await PostgresEventTarget.connect(pg.url, logger, { minDelayMs: 50, maxDelayMs: 200 });
    let reconnects = 0;
    sut.onReconnect(() => void reconnects++);
    await pg.stop('immediate');
    await until(() => !sut.listening, 'the listener to notice');
    await sut.close();
    await pg.start();
    // Long enough for several attempts at the maximum delay, had the loop not stopped.
    await sleep(1000);
    expect(reconnects).toBe(0);
    expect(await listenConnections()).toBe(0);
  });

  it('refuses an event over NOTIFY\'s 8000 bytes instead of losing it on the server', async () => {
    const sut = await PostgresEventTarget.connect(pg.url, logger);
    try {
      expect(sut.dispatchEvent(new CustomEvent('big', { detail: 'x'.repeat(MAX_PAYLOAD_BYTES) }))).toBe(false);
      const heard = nextEvent(sut, 'small');
      expect(sut.dispatchEvent(new CustomEvent('small', { detail: 'x'.repeat(MAX_PAYLOAD_BYTES - 100) }))).toBe(true);
      expect(await heard).toHaveLength(MAX_PAYLOAD_BYTES - 100);
    } finally {
      await sut.close();
    }
  });
});
