import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { Logger } from '../logger.js';
import { wilsonInterval } from '../ml/metrics.js';
import type { ModelService } from '../models/model-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { RetrainService } from './retrain-service.js';

/**
 * Automatic retrain triggers, checked after feedback (at most once a second per model):
 * enough new labelled feedback since the live version was trained, or live accuracy over the
 * task's window below its threshold — judged with a minimum sample and the upper end of a 95%
 * Wilson interval, so a few bad answers do not retrain. Both respect the task's cooldown.
 */
export class RetrainTriggers {
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly orm: Orm,
    private readonly tasks: TaskRegistry,
    private readonly models: ModelService,
    private readonly retrains: RetrainService,
    private readonly logger: Logger,
    private readonly debounceMs = 1000,
  ) {}

  feedbackRecorded(model: string): void {
    if (this.scheduled.has(model)) return;
    this.scheduled.set(
      model,
      setTimeout(() => {
        this.scheduled.delete(model);
        const previous = this.running.get(model) ?? Promise.resolve();
        const next = previous.then(async () => void (await this.check(model))).catch((error: unknown) => {
          this.logger.warn({ err: error, model }, 'retrain trigger check failed');
        });
        this.running.set(model, next);
      }, this.debounceMs),
    );
  }

  /** Evaluates the triggers of one model now; returns the reason when a retrain was requested. */
  async check(model: string): Promise<string | null> {
    const task = this.tasks.get(model);
    const live = this.models.getLive(model);
    if (!task || !live) return null;
    const policy = task.definition.retrain;
    if (await this.retrains.pending(model)) return null;
    const last = await this.retrains.lastActivity(model);
    if (last && Date.now() - last.getTime() < policy.cooldownSeconds * 1000) return null;

    const db = this.orm.em.getKysely();
    const { rows: counted } = await sql<{ n: string }>`
      select count(*) as n from feedback where model = ${model} and prediction_id is not null and id > ${live.trainedThroughFeedbackId}`.execute(db);
    const fresh = Number(counted[0]!.n);
    if (fresh >= policy.afterFeedback) {
      const reason = `${fresh} new labelled feedback since version ${live.version} was trained (threshold ${policy.afterFeedback})`;
      await this.retrains.request(model, { kind: 'feedback-count', reason });
      return reason;
    }

    const { rows: window } = await sql<{ n: string; correct: string }>`
      select count(*) as n, count(*) filter (where correct) as correct from (
        select correct from feedback where model = ${model} and model_version_id = ${live.versionId}
        order by id desc limit ${policy.window}) w`.execute(db);
    const n = Number(window[0]!.n);
    const correct = Number(window[0]!.correct);
    if (n < policy.minSamples) return null;
    const bound = wilsonInterval(correct, n)!;
    if (bound.high < policy.minAccuracy) {
      const reason =
        `live accuracy ${(correct / n).toFixed(3)} over the last ${n} feedback of version ${live.version} ` +
        `(95% upper bound ${bound.high.toFixed(3)}) is below ${policy.minAccuracy}`;
      await this.retrains.request(model, { kind: 'accuracy', reason });
      return reason;
    }
    return null;
  }

  stop(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  async drain(): Promise<void> {
    await Promise.all(this.running.values());
  }
}
