import type { FeedbackRepository } from '../feedback/feedback.repository.js';
import type { DriftService } from '../drift/drift-service.js';
import type { Logger } from '../logger.js';
import type { MetricsService } from '../metrics/metrics-service.js';
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
    private readonly feedbackRows: Pick<FeedbackRepository, 'countUnseen'>,
    private readonly tasks: TaskRegistry,
    private readonly models: ModelService,
    private readonly retrains: RetrainService,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
    private readonly debounceMs = 1000,
    /** Input drift of the live version, for tasks with retrain.onDrift. */
    private readonly drift: Pick<DriftService, 'report'> | null = null,
  ) {}

  /** Predictions arrive long before their labels: tasks that retrain on drift are checked after them too (same debounce). */
  predictionsServed(model: string): void {
    if (this.drift && this.tasks.get(model)?.definition.retrain.onDrift) this.feedbackRecorded(model);
  }

  feedbackRecorded(model: string): void {
    if (this.scheduled.has(model)) return;
    this.scheduled.set(
      model,
      setTimeout(() => {
        this.scheduled.delete(model);
        const previous = this.running.get(model) ?? Promise.resolve();
        const next = previous
          .then(async () => void (await this.check(model)))
          .catch((error: unknown) => {
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

    const reasons: { kind: 'accuracy' | 'feedback-count' | 'drift'; reason: string }[] = [];
    // Accuracy first: it says what is wrong, the count only that it is time.
    const { n, correct } = await this.metrics.recentWindow(model, live.versionId, policy.window);
    const bound = n >= policy.minSamples ? wilsonInterval(correct, n)! : null;
    if (bound && bound.high < policy.minAccuracy) {
      reasons.push({
        kind: 'accuracy',
        reason:
          `live accuracy ${(correct / n).toFixed(3)} over the last ${n} feedback of version ${live.version} ` +
          `(95% upper bound ${bound.high.toFixed(3)}) is below ${policy.minAccuracy}`,
      });
    }
    const fresh = await this.feedbackRows.countUnseen(model, live.trainedCursor);
    if (fresh >= policy.afterFeedback) {
      reasons.push({
        kind: 'feedback-count',
        reason: `${fresh} new labelled feedback since version ${live.version} was trained (threshold ${policy.afterFeedback})`,
      });
    }
    if (policy.onDrift && this.drift) {
      // The same minimum sample as the accuracy trigger: a handful of odd inputs is not drift.
      const report = await this.drift.report(model);
      if (report?.drifted && report.windowSize >= policy.minSamples) {
        const moved = report.features.filter((f) => f.drifted && f.kind !== 'label');
        reasons.push({
          kind: 'drift',
          reason: `inputs of version ${live.version} drifted over the last ${report.windowSize} predictions: ${moved.map((f) => `${f.name} (${f.detail})`).join('; ')}`,
        });
      }
    }
    // One job whatever the number of reasons: the later ones join the queued job.
    for (const r of reasons) await this.retrains.request(model, r);
    return reasons[0]?.reason ?? null;
  }

  stop(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  async drain(): Promise<void> {
    await Promise.all(this.running.values());
  }
}
