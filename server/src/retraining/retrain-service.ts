import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { lockFor } from '../database/advisory-lock.js';
import type { DomainEvents } from '../events/domain-events.js';
import { retrainStep, type EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import type { RetrainQueue } from '../queue/retrain-queue.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { TrainingPipeline, TrainingStep } from '../training/training-pipeline.js';
import { isFinished, type IRetrainJob, type RetrainState, type RetrainTrigger } from './retrain-job.entity.js';
import type { RetrainJobRepository } from './retrain-job.repository.js';

/** Triggers this soon after a job was asked for join it even once it runs. */
const DEBOUNCE_SECONDS = 10;

/** A retrain request written in a transaction that has not been announced yet. */
export interface PendingRetrainRequest {
  job: IRetrainJob;
  created: boolean;
  entry: RetrainTrigger;
}

/** A retrain job as published to subscribers and other processes. */
export type RetrainJobRecord = Omit<IRetrainJob, 'createdAt' | 'startedAt' | 'finishedAt' | 'updatedAt'> & {
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

export function toRecord(job: IRetrainJob): RetrainJobRecord {
  return {
    id: job.id,
    model: job.model,
    state: job.state,
    triggers: job.triggers,
    progress: job.progress,
    version: job.version ?? null,
    message: job.message ?? null,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    createdAt: new Date(job.createdAt).toISOString(),
    startedAt: job.startedAt ? new Date(job.startedAt).toISOString() : null,
    finishedAt: job.finishedAt ? new Date(job.finishedAt).toISOString() : null,
  };
}

/**
 * Retrains as jobs: queued with their reasons (a burst of triggers becomes one job), run by the
 * trainer through the training pipeline, every step recorded and published.
 */
export class RetrainService {
  constructor(
    private readonly jobs: RetrainJobRepository,
    private readonly tasks: TaskRegistry,
    private readonly queue: RetrainQueue,
    private readonly events: EventBus,
    private readonly logger: Logger,
    /** Told when an attempt starts and ends here (Prometheus follows it). */
    private readonly domainEvents: DomainEvents,
  ) {}

  /**
   * Queues a retrain of `model` for `trigger`. When one is already waiting, the trigger joins
   * it (debounced) and that job is returned.
   */
  async request(model: string, trigger: Omit<RetrainTrigger, 'at'>): Promise<{ job: RetrainJobRecord; created: boolean }> {
    const pending = await this.jobs.transaction((tx) => this.requestWithin(tx, model, trigger));
    return this.announce(pending);
  }

  /**
   * The request's rows, written on the caller's transaction `tx` (the model's retrain lock is
   * held until it commits): a decision and the job it asks for commit together, and nothing
   * waits on a second connection meanwhile — which would deadlock the embedded database's
   * single backend. Call `announce` once `tx` has committed.
   */
  async requestWithin(tx: EntityManager, model: string, trigger: Omit<RetrainTrigger, 'at'>): Promise<PendingRetrainRequest> {
    const task = this.tasks.get(model);
    if (!task) throw new Error(`unknown model ${model}`);
    const entry: RetrainTrigger = { ...trigger, reason: trigger.reason.slice(0, 1000), at: new Date().toISOString() };
    await lockFor(tx, `relearn:retrain:${model}`);
    // Join the job that is still waiting, or one already running but asked for only moments
    // ago: a burst of triggers (several alerts, several API processes) is one retrain.
    const recent = new Date(Date.now() - DEBOUNCE_SECONDS * 1000);
    const waiting = await this.jobs.joinable(tx, model, recent);
    if (waiting) {
      waiting.triggers = [...waiting.triggers, entry].slice(-50);
      return { job: waiting, created: false, entry };
    }
    const fresh = this.jobs.create(tx, {
      id: randomUUID(),
      model,
      state: 'QUEUED',
      triggers: [entry],
      progress: 0,
      attempts: 0,
      maxAttempts: task.definition.retrain.maxAttempts,
    });
    return { job: fresh, created: true, entry };
  }

  /** After the request's transaction committed: tells the queue and subscribers. */
  async announce({ job, created, entry }: PendingRetrainRequest): Promise<{ job: RetrainJobRecord; created: boolean }> {
    // The queue is told after the job row is committed, so a worker always finds the row. A
    // process that dies before this leaves the row QUEUED: startWorker's sweep delivers it.
    if (created) await this.queue.send({ retrainJobId: job.id, model: job.model }, { maxAttempts: job.maxAttempts });
    this.logger.info({ model: job.model, job: job.id, trigger: entry.kind, reason: entry.reason, debounced: !created }, 'retrain requested');
    const record = toRecord(job);
    this.events.publish('retrainJobChanged', retrainStep(record));
    const actor = entry.actor ?? (entry.kind === 'alert' ? 'monitoring' : 'relearn');
    this.domainEvents.emit('retrainRequested', { model: job.model, jobId: job.id, kind: entry.kind, reason: entry.reason, actor, joined: !created });
    return { job: record, created };
  }

  async list(model: string, limit = 20): Promise<RetrainJobRecord[]> {
    return (await this.jobs.list(model, limit)).map(toRecord);
  }

  async get(id: string): Promise<RetrainJobRecord | null> {
    const job = await this.jobs.get(id);
    return job ? toRecord(job) : null;
  }

  async latest(model: string): Promise<RetrainJobRecord | null> {
    const job = await this.jobs.latest(model);
    return job ? toRecord(job) : null;
  }

  /** The most recent job created or finished, for cooldowns. */
  async lastActivity(model: string): Promise<Date | null> {
    const job = await this.jobs.lastUpdated(model);
    return job ? new Date(job.updatedAt) : null;
  }

  /** True when a retrain of the model is queued or running. */
  async pending(model: string): Promise<boolean> {
    return (await this.jobs.notConcluded(model)).some((j) => !isFinished(j));
  }

  /** Processes retrain jobs in this process until `stop`. */
  async startWorker(pipeline: TrainingPipeline): Promise<void> {
    await this.queue.work((message) => this.process(message.retrainJobId, pipeline));
    // Jobs queued while no worker ran (or whose queue message was merged away) get one now.
    const stranded = await this.jobs.queued();
    for (const job of stranded) await this.queue.send({ retrainJobId: job.id, model: job.model }, { maxAttempts: job.maxAttempts });
  }

  /** Runs one job. Throws to have the queue retry it; returns once it is finished for good. */
  async process(jobId: string, pipeline: TrainingPipeline): Promise<void> {
    const job = await this.jobs.get(jobId);
    if (!job || isFinished(job)) return; // already done: a redelivered message changes nothing
    const task = this.tasks.get(job.model);
    if (!task)
      return this.update(job, { state: 'FAILED', message: `model ${job.model} is not served here`, finishedAt: new Date(), attempts: job.maxAttempts });
    await this.update(job, { state: 'SNAPSHOTTING', progress: 0.01, attempts: job.attempts + 1, startedAt: new Date(), finishedAt: null, message: null });
    this.logger.info({ model: job.model, job: job.id, attempt: job.attempts }, 'retrain started');
    const reason = job.triggers.map((t) => t.reason).join('; ');
    const started = performance.now();
    this.domainEvents.emit('retrainStarted', { model: job.model });
    try {
      const outcome = await pipeline.train({
        task,
        reason,
        retrainJobId: job.id,
        onStep: (state: TrainingStep, progress: number) => this.update(job, { state, progress }),
      });
      await this.update(job, { state: outcome.state, progress: 1, version: outcome.version, message: outcome.message, finishedAt: new Date() });
      this.domainEvents.emit('retrainFinished', {
        model: job.model,
        outcome: outcome.state === 'PROMOTED' ? 'promoted' : 'rejected',
        seconds: (performance.now() - started) / 1000,
        jobId: job.id,
        version: outcome.version,
        message: outcome.message,
      });
      this.logger.info({ model: job.model, job: job.id, state: outcome.state, version: outcome.version, message: outcome.message }, 'retrain finished');
    } catch (error) {
      const last = job.attempts >= job.maxAttempts;
      const message = `attempt ${job.attempts} of ${job.maxAttempts} failed: ${(error as Error).message}${last ? '' : '; retrying'}`;
      await this.update(job, { state: 'FAILED', message, finishedAt: new Date() });
      this.domainEvents.emit('retrainFinished', { model: job.model, outcome: 'failed', seconds: (performance.now() - started) / 1000, jobId: job.id, message });
      this.logger.warn({ model: job.model, job: job.id, err: error, retrying: !last }, 'retrain failed');
      if (!last) throw error;
    }
    // Triggers that arrived while this ran wait in a newer job: make sure it is delivered.
    const next = await this.jobs.nextQueued(job.model);
    if (next) await this.queue.send({ retrainJobId: next.id, model: next.model }, { maxAttempts: next.maxAttempts });
  }

  private updates = Promise.resolve();

  /** Applies a step to the row and publishes it; steps are written and published in call order. */
  private update(
    job: IRetrainJob,
    patch: Partial<Pick<IRetrainJob, 'progress' | 'version' | 'message' | 'attempts' | 'startedAt' | 'finishedAt'>> & { state?: RetrainState },
  ): Promise<void> {
    Object.assign(job, patch, { updatedAt: new Date() });
    const record = toRecord(job);
    const write = this.updates.then(async () => {
      await this.jobs.update(job.id, { ...patch, updatedAt: job.updatedAt });
      this.events.publish('retrainJobChanged', retrainStep(record));
    });
    this.updates = write.catch(() => {});
    return write;
  }
}
