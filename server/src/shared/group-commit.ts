/**
 * Group commit: writes that arrive while a commit is in flight are gathered and committed
 * together in the next one. Every caller is answered only after its own row is committed, so
 * batching costs a write at most one commit's latency and never durability. Written by hand
 * because the queue libraries at hand (pg-boss, graphile-worker) are job queues, not batchers.
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    private readonly options: { maxBatch: number; concurrency: number } = { maxBatch: 500, concurrency: 2 },
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Submits several items to be committed in one batch, in order (unless they exceed maxBatch). */
  submitMany(items: T[]): Promise<R[]> {
    const promises = items.map(
      (item) => new Promise<R>((resolve, reject) => this.queue.push({ item, resolve, reject })),
    );
    this.pump();
    return Promise.all(promises);
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.commit(batch.map((b) => b.item))
        .then(
          (results) => batch.forEach((b, i) => b.resolve(results[i]!)),
          (error: unknown) => batch.forEach((b) => b.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          if (this.queue.length > 0) this.pump();
          else if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((w) => w());
        });
    }
  }
}
