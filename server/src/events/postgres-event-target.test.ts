import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg } from '../../../scripts/services/postgres.js';
import { startRestartablePostgres, type RestartablePostgres } from '../../test/restartable-postgres.js';
import { startTcpProxy } from '../../test/tcp-proxy.js';
import { createLogger, type Logger } from '../logger.js';
import { loadConfig } from '../config.js';
import { MAX_PAYLOAD_BYTES, PostgresEventTarget } from './postgres-event-target.js';

const logger = createLogger(loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LOG_PRETTY: 'false' }));

/** A logger that keeps what the target says, to wait on its reconnect attempts instead of on the clock. */
function recordingLogger(): { logger: Logger; failedAttempts: () => number } {
  const lines: { msg?: string }[] = [];
  const recorder = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg?: string }) });
  return { logger: recorder, failedAttempts: () => lines.filter((l) => l.msg === 'event connection: still reconnecting').length };
}

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
      const recorded = recordingLogger();
      const sut = await PostgresEventTarget.connect(pg.url, recorded.logger, { minDelayMs: 50, maxDelayMs: 500 });
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
        await until(() => recorded.failedAttempts() >= 3, 'three failed reconnect attempts');
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
    const options = { minDelayMs: 50, maxDelayMs: 200 };
    const recorded = recordingLogger();
    const sut = await PostgresEventTarget.connect(pg.url, recorded.logger, options);
    // A twin left open keeps trying: its attempts are the clock of this test.
    const twinRecorded = recordingLogger();
    const twin = await PostgresEventTarget.connect(pg.url, twinRecorded.logger, options);
    try {
      let reconnects = 0;
      sut.onReconnect(() => void reconnects++);
      let twinReconnects = 0;
      twin.onReconnect(() => void twinReconnects++);
      await pg.stop('immediate');
      await until(() => recorded.failedAttempts() >= 1 && twinRecorded.failedAttempts() >= 1, 'both to be reconnecting');
      await sut.close();
      const attemptsAtClose = recorded.failedAttempts();
      // Three more failed attempts of the twin at the same backoff: the closed one would have made some too.
      const twinAtClose = twinRecorded.failedAttempts();
      await until(() => twinRecorded.failedAttempts() >= twinAtClose + 3, 'three more attempts of the twin');
      await pg.start();
      await until(() => twinReconnects === 1, 'the twin to reconnect');
      // (An attempt already in flight at close() may still fail and say so; none starts after it.)
      expect(recorded.failedAttempts()).toBeLessThanOrEqual(attemptsAtClose + 1);
      expect(reconnects).toBe(0);
      expect(await listenConnections()).toBe(1); // the twin's
    } finally {
      await sut.close();
      await twin.close();
    }
  });

  it("refuses an event over NOTIFY's 8000 bytes instead of losing it on the server", async () => {
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
