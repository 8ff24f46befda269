/**
 * Group commit: writes that arrive while a commit is in flight are gathered and committed
 * together in the next one. Every caller is answered only after its own row is committed, so
 * batching costs a write at most one commit's latency and never durability. Written by hand
 * because the queue libraries at hand (pg-boss, graphile-worker) are job queues, not batchers.
 *
 * A batch is one statement, so one row the database refuses would fail every row with it. When
 * the error is about the data (see `isRowError`), the batch is retried in halves, down to single
 * rows, so only the refused row's caller gets the error and its batch-mates commit (in their
 * original order). Any other failure (connection lost, server shutting down, timeout) is not
 * about one row: every caller of the batch gets it at once, to retry.
 */
interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<T, R> {
  private queue: Waiting<T, R>[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly isRowError: (error: unknown) => boolean;

  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    private readonly options: { maxBatch: number; concurrency: number; isRowError?: (error: unknown) => boolean } = {
      maxBatch: 500,
      concurrency: 2,
    },
  ) {
    this.isRowError = options.isRowError ?? isDataError;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Submits several items to be committed in one batch, in order (unless they exceed maxBatch). */
  submitMany(items: T[]): Promise<R[]> {
    const promises = items.map((item) => new Promise<R>((resolve, reject) => this.queue.push({ item, resolve, reject })));
    this.pump();
    return Promise.all(promises);
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      // Not awaited: batches run side by side; commitAndAnswer never rejects (a failure answers the batch's waiters).
      void this.commitAndAnswer(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.pump();
        else if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((w) => w());
      });
    }
  }

  /** Commits `batch`, splitting it on a row error; never rejects (each caller gets its own answer). */
  private async commitAndAnswer(batch: Waiting<T, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await this.commit(batch.map((b) => b.item));
    } catch (error) {
      if (batch.length === 1 || !this.isRowError(error)) {
        for (const b of batch) b.reject(error);
        return;
      }
      // Halves one after the other, so rows still commit in the order they were submitted.
      const middle = Math.ceil(batch.length / 2);
      await this.commitAndAnswer(batch.slice(0, middle));
      await this.commitAndAnswer(batch.slice(middle));
      return;
    }
    batch.forEach((b, i) => b.resolve(results[i]!));
  }
}

/**
 * PostgreSQL errors of SQLSTATE class 22 (data exception: a value the type cannot hold, such as
 * NUL in text) and 23 (integrity constraint violation) are about the rows of the statement;
 * everything else (08 connection, 53 resources, 57 operator intervention, 40 rollback, errors
 * without a SQLSTATE such as ECONNRESET) is not, and splitting would only multiply the failure.
 */
export function isDataError(error: unknown): boolean {
  const code = sqlState(error);
  return code !== null && (code.startsWith('22') || code.startsWith('23'));
}

function sqlState(error: unknown): string | null {
  // Drivers and ORMs wrap the server's error; look a few causes deep for a five-character SQLSTATE.
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const { code, sqlState: state } = e as { code?: unknown; sqlState?: unknown };
    for (const c of [state, code]) if (typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c)) return c;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}
