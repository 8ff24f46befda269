import pg from 'pg';
import type { Logger } from '../logger.js';

const CHANNEL = 'relearn_events';

/**
 * An EventTarget over PostgreSQL LISTEN/NOTIFY, for yoga's pub/sub: an event published in any
 * process (API or trainer) reaches the subscribers of every process. Events go through
 * PostgreSQL only, so the publishing process hears its own events back like everyone else.
 * Written by hand because yoga ships Redis event targets only; NOTIFY payloads are capped at
 * 8000 bytes, so events carry ids and small records, never datasets.
 */
export class PostgresEventTarget implements EventTarget {
  private readonly local = new EventTarget();
  private listener: pg.Client | null = null;
  private publisher: pg.Pool;
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {
    this.publisher = new pg.Pool({ connectionString: url, max: 2, application_name: 'relearn-events' });
  }

  static async connect(url: string, logger: Logger): Promise<PostgresEventTarget> {
    const target = new PostgresEventTarget(url, logger);
    await target.listen();
    return target;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'relearn-events' });
    client.on('notification', (message) => {
      if (!message.payload) return;
      try {
        const { topic, detail } = JSON.parse(message.payload) as { topic: string; detail: unknown };
        this.local.dispatchEvent(new CustomEvent(topic, { detail }));
      } catch (error) {
        this.logger.warn({ err: error }, 'ignored a malformed event');
      }
    });
    // A lost LISTEN connection is re-opened: events during the gap are missed, state is not (it is in tables).
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'event connection lost; reconnecting');
      this.listener = null;
      if (!this.closed) setTimeout(() => void this.listen().catch(() => {}), 1000);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
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
    this.publisher.query('select pg_notify($1, $2)', [CHANNEL, payload]).catch((error: unknown) => {
      this.logger.warn({ err: error, topic: event.type }, 'could not publish an event');
    });
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => {});
    await this.publisher.end();
  }
}
