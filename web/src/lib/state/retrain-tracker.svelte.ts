import type { RetrainJob, RetrainState } from '../graphql/types.js';

/** The steps a retrain goes through, in order; the last is one of the three outcomes. */
export const RETRAIN_STEPS = ['QUEUED', 'SNAPSHOTTING', 'TRAINING', 'EVALUATING', 'REGISTERING'] as const;
export const FINAL_STATES: readonly RetrainState[] = ['PROMOTED', 'REJECTED', 'FAILED'];

export function isFinished(state: RetrainState): boolean {
  return FINAL_STATES.includes(state);
}

/**
 * 0..1 for the progress bar: the server's own progress, but never behind the step reached
 * (each of the five steps is a fifth of the way), and 1 once the job has finished.
 */
export function retrainProgress(job: Pick<RetrainJob, 'state' | 'progress'>): number {
  if (isFinished(job.state)) return 1;
  const step = RETRAIN_STEPS.indexOf(job.state as (typeof RETRAIN_STEPS)[number]);
  const floor = step < 0 ? 0 : step / RETRAIN_STEPS.length;
  const server = Number.isFinite(job.progress) ? Math.min(1, Math.max(0, job.progress)) : 0;
  return Math.max(floor, server);
}

export function stepLabel(state: RetrainState): string {
  switch (state) {
    case 'QUEUED':
      return 'Queued';
    case 'SNAPSHOTTING':
      return 'Snapshotting the dataset';
    case 'TRAINING':
      return 'Training';
    case 'REGISTERING':
      return 'Registering the version';
    case 'EVALUATING':
      return 'Evaluating against the champion';
    case 'PROMOTED':
      return 'Promoted: the new version is live';
    case 'REJECTED':
      return 'Rejected by the promotion gate';
    case 'FAILED':
      return 'Failed';
  }
}

/** Recent retrain jobs of one model, updated by retrainStatus pushes, newest first. */
export class RetrainTracker {
  jobs = $state<RetrainJob[]>([]);
  /** The job this tab started (or the newest one seen), whose progress is shown. */
  followedId = $state<string | null>(null);
  followed = $derived(this.jobs.find((j) => j.id === this.followedId) ?? null);
  progress = $derived(this.followed ? retrainProgress(this.followed) : 0);
  running = $derived(this.followed ? !isFinished(this.followed.state) : false);

  load(jobs: RetrainJob[]): void {
    this.jobs = [...jobs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (!this.followedId && this.jobs[0] && !isFinished(this.jobs[0].state)) this.followedId = this.jobs[0].id;
  }

  /** A job from the subscription or a mutation: replaces the same id, or joins the list. */
  update(job: RetrainJob): void {
    const known = this.jobs.some((j) => j.id === job.id);
    this.jobs = known ? this.jobs.map((j) => (j.id === job.id ? job : j)) : [job, ...this.jobs].slice(0, 20);
    const followed = this.followed;
    if (!followed || (isFinished(followed.state) && !isFinished(job.state))) this.followedId = job.id;
  }

  follow(id: string): void {
    this.followedId = id;
  }

  reset(): void {
    this.jobs = [];
    this.followedId = null;
  }
}

export const retrainTracker = new RetrainTracker();
