import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { EventBus } from '../events/event-bus.js';
import type { Confusion } from '../ml/metrics.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { reportFromConfusion, type ClassificationReport } from './classification-report.js';

/** Which feedback the live metrics count. Lifetime when empty. */
export interface MetricsWindow {
  /** The most recent N feedback (predictions are then counted from the oldest one they label). */
  lastFeedback?: number | null;
  /** Feedback of the last N seconds. */
  lastSeconds?: number | null;
}

export interface LiveMetrics extends ClassificationReport {
  model: string;
  predictionCount: number;
  feedbackCount: number;
  /** Feedback on predictions Relearn served (outcomes recorded for predictions made elsewhere excluded). */
  labelledPredictionCount: number;
  /** Internal id of the version these figures are restricted to, if any. */
  modelVersionId: number | null;
}

/** Subscribers of one push resolve within this; a later push recomputes. */
const SHARED_FOR_MS = 100;

/**
 * Live accuracy from the feedback table. Computed in PostgreSQL so every process agrees;
 * pushes to subscribers are coalesced so a burst of feedback costs one query per interval.
 */
export class MetricsService {
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /**
   * One computation per model per push, shared by every subscriber. Kept only briefly: the push
   * may come from another process, so this one cannot know when its copy is stale.
   */
  private readonly shared = new Map<string, { value: Promise<LiveMetrics>; at: number }>();

  constructor(
    private readonly orm: Orm,
    private readonly tasks: TaskRegistry,
    private readonly events: EventBus,
    private readonly pushIntervalMs: number,
  ) {}

  async compute(model: string, window: MetricsWindow = {}, modelVersionId: number | null = null): Promise<LiveMetrics> {
    const task = this.tasks.get(model);
    if (!task) throw new Error(`unknown model ${model}`);
    const pos = task.positiveLabel;
    const db = this.orm.em.getKysely();
    const version = modelVersionId === null ? sql`` : sql`and model_version_id = ${modelVersionId}`;
    const since = window.lastSeconds ? sql`and created_at > now() - make_interval(secs => ${window.lastSeconds})` : sql``;
    const limit = window.lastFeedback ? sql`order by id desc limit ${window.lastFeedback}` : sql``;
    const { rows } = await sql<{ tp: string; tn: string; fp: string; fn: string; labelled: string; span_start: Date | null }>`
      with w as (select predicted, actual, prediction_id from feedback where model = ${model} ${version} ${since} ${limit})
      select count(*) filter (where predicted = ${pos} and actual = ${pos}) as tp,
             count(*) filter (where predicted <> ${pos} and actual <> ${pos}) as tn,
             count(*) filter (where predicted = ${pos} and actual <> ${pos}) as fp,
             count(*) filter (where predicted <> ${pos} and actual = ${pos}) as fn,
             count(*) filter (where prediction_id is not null) as labelled,
             (select min(p.created_at) from prediction p join w on p.id = w.prediction_id) as span_start
      from w`.execute(db);
    const r = rows[0]!;
    // A window of the last N feedback spans the predictions they label: count the predictions made
    // since the oldest of those, so the labelled share compares like with like.
    const spanStart = window.lastFeedback && r.span_start ? sql`and created_at >= ${new Date(r.span_start)}` : sql``;
    const predictionVersion = modelVersionId === null ? sql`` : sql`and model_version_id = ${modelVersionId}`;
    const { rows: p } = await sql<{ n: string }>`
      select count(*) as n from prediction where model = ${model} ${predictionVersion} ${since} ${spanStart}`.execute(db);
    const confusion: Confusion = { tp: Number(r.tp), tn: Number(r.tn), fp: Number(r.fp), fn: Number(r.fn) };
    const report = reportFromConfusion(confusion);
    return {
      ...report,
      model,
      predictionCount: Number(p[0]!.n),
      feedbackCount: report.count,
      labelledPredictionCount: Number(r.labelled),
      modelVersionId,
    };
  }

  /** The last `size` feedback of one version: how many, and how many were right. */
  async recentWindow(model: string, modelVersionId: number, size: number): Promise<{ n: number; correct: number }> {
    const { rows } = await sql<{ n: string; correct: string }>`
      select count(*) as n, count(*) filter (where correct) as correct from (
        select correct from feedback where model = ${model} and model_version_id = ${modelVersionId}
        order by id desc limit ${size}) w`.execute(this.orm.em.getKysely());
    return { n: Number(rows[0]!.n), correct: Number(rows[0]!.correct) };
  }

  /** When the model last received feedback (null before the first). */
  async lastFeedbackAt(model: string): Promise<Date | null> {
    const { rows } = await sql<{ at: Date | null }>`select max(created_at) as at from feedback where model = ${model}`.execute(
      this.orm.em.getKysely(),
    );
    return rows[0]?.at ? new Date(rows[0].at) : null;
  }

  /** Lifetime metrics of a model, shared between all subscribers of one push. */
  current(model: string): Promise<LiveMetrics> {
    const cached = this.shared.get(model);
    if (cached && Date.now() - cached.at < SHARED_FOR_MS) return cached.value;
    const value = this.compute(model);
    this.shared.set(model, { value, at: Date.now() });
    value.catch(() => this.shared.delete(model));
    return value;
  }

  /** Called after feedback commits: schedules one push for the burst. */
  changed(model: string): void {
    this.dirty.add(model);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      for (const m of this.dirty) {
        this.shared.delete(m);
        this.events.publish('metricsChanged', m);
      }
      this.dirty.clear();
    }, this.pushIntervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
