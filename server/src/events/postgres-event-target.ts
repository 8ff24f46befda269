import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../logger.js';

const CHANNEL = 'relearn_events';

/** PostgreSQL drops a NOTIFY whose payload reaches 8000 bytes. */
export const MAX_PAYLOAD_BYTES = 7999;
/** Events waiting to be sent (a burst, or PostgreSQL away): past this many, new ones are dropped and logged. */
const MAX_OUTBOX = 10_000;
/** NOTIFYs sent in one statement. */
const NOTIFY_BATCH = 200;

export interface ReconnectOptions {
  /** First wait after the connection is lost; doubled on every failed attempt. */
  minDelayMs?: number;
  /** Longest wait between two attempts. */
  maxDelayMs?: number;
  /**
   * How often the LISTEN connection is asked a `select 1`, and how long it may take: a partition
   * (no reset, no error, just silence) is noticed by this, not by TCP keepalive hours later.
   */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
}

/**
 * An EventTarget over PostgreSQL LISTEN/NOTIFY, for yoga's pub/sub: an event published in any
 * process (API or trainer) reaches the subscribers of every process. Events go through
 * PostgreSQL only, so the publishing process hears its own events back like everyone else.
 * Written by hand: yoga ships Redis event targets only, and pg-listen (1.7.0, little activity) stops
 * reconnecting after `retryTimeout` (3 s by default, andywer/pg-listen#56); this loop is small and
 * tested against real restarts. NOTIFY payloads are capped at 8000 bytes, so events carry ids and
 * fixed-size fields, never records.
 *
 * The LISTEN connection is re-opened whenever it is lost (a restart, a failover, a cut network):
 * with backoff, forever, until close(). What was NOTIFYed in the gap is gone, so onReconnect
 * callbacks catch up from the tables.
 */
export class PostgresEventTarget implements EventTarget {
  private readonly local = new EventTarget();
  private listener: pg.Client | null = null;
  private readonly publisher: pg.Pool;
  private closed = false;
  /** Payloads not yet sent, in publish order; one flush at a time sends them (see dispatchEvent). */
  private readonly outbox: { topic: string; payload: string }[] = [];
  private flushing: Promise<void> | null = null;
  private readonly stopWaiting = new AbortController();
  private reconnecting: Promise<void> | null = null;
  /** Catch-ups run one at a time, in order, even when the connection is lost again meanwhile. */
  private catchingUp: Promise<void> = Promise.resolve();
  private readonly reconnectCallbacks = new Set<() => unknown>();
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly heartbeatTimeoutMs: number;

  private constructor(
    private readonly url: string,
    private readonly logger: Logger,
    options: ReconnectOptions,
  ) {
    this.minDelayMs = options.minDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 5000;
    this.heartbeat = setInterval(() => void this.checkListener(), options.heartbeatMs ?? 10_000);
    this.heartbeat.unref();
    // One connection, one statement at a time (flush): NOTIFYs go out in publish order.
    this.publisher = new pg.Pool({ connectionString: url, max: 1, application_name: 'relearn-events', connectionTimeoutMillis: 5000 });
    // node-postgres emits 'error' on idle clients when the server goes away; unheard, it kills the
    // process. The pool has already dropped the client; a publish in flight rejects on its own.
    this.publisher.on('error', (error) => this.logger.debug({ err: error }, 'event publisher connection lost'));
    this.publisher.on('connect', (client) => client.on('error', (error) => this.logger.debug({ err: error }, 'event publisher connection lost')));
  }

  /** Connects and LISTENs; fails if PostgreSQL cannot be reached now (start-up reports it). */
  static async connect(url: string, logger: Logger, options: ReconnectOptions = {}): Promise<PostgresEventTarget> {
    const target = new PostgresEventTarget(url, logger, options);
    try {
      await target.open();
    } catch (error) {
      clearInterval(target.heartbeat);
      await target.publisher.end().catch(() => {});
      throw error;
    }
    return target;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.listener !== null;
  }

  /**
   * Calls `callback` each time the LISTEN connection is back after a loss (after LISTEN is
   * re-issued, so nothing published from then on is missed). Returns a function that unregisters it.
   */
  onReconnect(callback: () => unknown): () => void {
    this.reconnectCallbacks.add(callback);
    return () => this.reconnectCallbacks.delete(callback);
  }

  private async open(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'relearn-events',
      connectionTimeoutMillis: 5000,
      // A dead peer behind a cut network is noticed by TCP keepalive, not only by the next write.
      keepAlive: true,
    });
    client.on('notification', (message) => {
      if (!message.payload) return;
      try {
        const { topic, detail } = JSON.parse(message.payload) as { topic: string; detail: unknown };
        this.local.dispatchEvent(new CustomEvent(topic, { detail }));
      } catch (error) {
        this.logger.warn({ err: error }, 'ignored a malformed event');
      }
    });
    // Both fire on a lost connection ('error' first when the server said why); lost() acts once.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the event connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
  }

  private checking = false;
  private async checkListener(): Promise<void> {
    const client = this.listener;
    if (!client || this.checking) return;
    this.checking = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answered = await Promise.race([
        client.query('select 1').then(
          () => true,
          () => true,
        ), // a failed query is reported by 'error'
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.heartbeatTimeoutMs))),
      ]);
      if (!answered) this.lost(client, new Error(`the event connection did not answer a heartbeat within ${this.heartbeatTimeoutMs} ms`));
    } finally {
      clearTimeout(timer);
      this.checking = false;
    }
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.listener !== client) return; // not yet listening (open() reports it), or already handled
    this.listener = null;
    client.end().catch(() => {});
    if (this.closed) return;
    this.logger.warn({ err: error }, 'event connection lost; reconnecting');
    this.reconnecting ??= this.reconnect().finally(() => (this.reconnecting = null));
  }

  /** Exponential backoff with jitter, capped, until it works or close() is called. */
  private async reconnect(): Promise<void> {
    const since = Date.now();
    for (let attempt = 1; !this.closed; attempt++) {
      const cap = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** (attempt - 1));
      const delay = cap / 2 + Math.random() * (cap / 2);
      try {
        await sleep(delay, undefined, { signal: this.stopWaiting.signal });
      } catch {
        return; // closed while waiting
      }
      if (this.closed) return;
      try {
        await this.open();
      } catch (error) {
        // Every attempt at debug level; one warning now and then, so a long outage does not flood the log.
        const log = attempt % 20 === 0 ? 'warn' : 'debug';
        this.logger[log]({ err: error, attempt, downForMs: Date.now() - since }, 'event connection: still reconnecting');
        continue;
      }
      if (this.closed) return;
      this.logger.info({ attempts: attempt, downForMs: Date.now() - since }, 'event connection re-established; catching up');
      // Not awaited here: a loss during the catch-up must start the next reconnect at once.
      this.catchingUp = this.catchingUp.then(() => this.runReconnectCallbacks());
      return;
    }
  }

  private async runReconnectCallbacks(): Promise<void> {
    for (const callback of this.reconnectCallbacks) {
      if (this.closed) return;
      try {
        await callback();
      } catch (error) {
        this.logger.error({ err: error }, 'catching up after the event connection came back failed');
      }
    }
  }

  addEventListener(type: string, callback: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void {
    this.local.addEventListener(type, callback, options);
  }

  removeEventListener(type: string, callback: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean): void {
    this.local.removeEventListener(type, callback, options);
  }

  dispatchEvent(event: Event): boolean {
    const detail = (event as CustomEvent).detail;
    const payload = JSON.stringify({ topic: event.type, detail });
    // PostgreSQL would refuse it; say so here, with the topic, instead of a bare server error.
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      this.logger.error({ topic: event.type, bytes: Buffer.byteLength(payload) }, 'event too large for NOTIFY: not published (events must carry ids)');
      return false;
    }
    if (this.outbox.length >= MAX_OUTBOX) {
      this.logger.error({ topic: event.type, waiting: this.outbox.length }, 'too many events waiting to be published: dropped');
      return false;
    }
    this.outbox.push({ topic: event.type, payload });
    void this.flush();
    return true;
  }

  /**
   * Sends what waits, in order, a batch per statement. In order because concurrent NOTIFYs on
   * several connections overtake each other (a subscriber saw a retrain's TRAINING after its
   * EVALUATING), in batches so that a burst does not queue one round trip per event (a pool
   * waiting that long timed them out). PostgreSQL delivers one transaction's notifications in
   * order, and folds identical payloads of one transaction into one: events are idempotent signals.
   */
  private flush(): Promise<void> {
    this.flushing ??= this.sendWaiting().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async sendWaiting(): Promise<void> {
    while (this.outbox.length > 0) {
      const batch = this.outbox.splice(0, NOTIFY_BATCH);
      await this.publisher
        .query('select pg_notify($1, payload) from unnest($2::text[]) as t(payload)', [CHANNEL, batch.map((e) => e.payload)])
        .catch((error: unknown) => {
          this.logger.warn({ err: error, topics: [...new Set(batch.map((e) => e.topic))], events: batch.length }, 'could not publish events');
        });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.stopWaiting.abort();
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
    // A connection attempt in flight ends its own client once it sees `closed`; a catch-up in
    // flight gets a moment to finish before the database closes under it.
    await Promise.race([this.catchingUp, sleep(500, undefined, { ref: false })]);
    // What was published before close still goes out (bounded: the database may be away).
    await Promise.race([this.flushing, sleep(1000, undefined, { ref: false })]);
    await this.publisher.end().catch(() => {});
  }
}
