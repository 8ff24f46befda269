import { PgBoss } from 'pg-boss';
import type { Logger } from '../logger.js';

export interface RetrainMessage {
  retrainJobId: string;
  model: string;
}

/**
 * Delivery of retrain jobs: durable in PostgreSQL (pg-boss), at least once, retried with
 * backoff, at most one running per model. The same adapter serves a real PostgreSQL and the
 * embedded PGlite.
 */
export interface RetrainQueue {
  start(): Promise<void>;
  /** Queues a retrain; false when one is already waiting for this model (it will pick up the job). */
  send(message: RetrainMessage, options: { maxAttempts: number }): Promise<boolean>;
  /** Starts processing jobs in this process. A handler that throws is retried. */
  work(handler: (message: RetrainMessage, attempt: number) => Promise<void>): Promise<void>;
  /** Stops, letting a running job finish for up to `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const QUEUE = 'relearn-retrain';

export class PgBossRetrainQueue implements RetrainQueue {
  private readonly boss: PgBoss;

  constructor(
    connectionString: string,
    private readonly logger: Logger,
    private readonly options: { pollingIntervalSeconds?: number; heartbeatSeconds?: number; retryDelaySeconds?: number } = {},
  ) {
    this.boss = new PgBoss({ connectionString, max: 4, application_name: 'relearn-queue' });
    // The message and code only: pg-boss's errors can carry the whole pg client (kilobytes a line during an outage).
    this.boss.on('error', (error: Error & { code?: string }) =>
      this.logger.error({ err: { message: error.message, code: error.code, name: error.name } }, 'retrain queue error'),
    );
  }

  async start(): Promise<void> {
    await this.boss.start();
    // "stately" with the model as singleton key: one waiting and one running retrain per model.
    await this.boss.createQueue(QUEUE, {
      policy: 'stately',
      retryBackoff: true,
      retryDelay: this.options.retryDelaySeconds ?? 5,
      heartbeatSeconds: this.options.heartbeatSeconds ?? 10,
      expireInSeconds: 3600,
    });
  }

  async send(message: RetrainMessage, options: { maxAttempts: number }): Promise<boolean> {
    const id = await this.boss.send(
      QUEUE,
      { ...message },
      {
        singletonKey: message.model,
        retryLimit: Math.max(0, options.maxAttempts - 1),
      },
    );
    return id !== null;
  }

  async work(handler: (message: RetrainMessage, attempt: number) => Promise<void>): Promise<void> {
    await this.boss.work<RetrainMessage>(
      QUEUE,
      { pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1, batchSize: 1, includeMetadata: true },
      async ([job]) => {
        if (!job) return;
        await handler(job.data, (job as { retryCount?: number }).retryCount ?? 0);
      },
    );
  }

  async stop(graceMs = 30_000): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: graceMs });
  }
}
