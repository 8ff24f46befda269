import type { TaskInput } from '../tasks/task.js';
import type { ClassScore } from './prediction.entity.js';

/** A served prediction as the API returns it. */
export interface PredictionRecord {
  id: string;
  model: string;
  modelVersionId: number;
  version: number;
  input: TaskInput;
  label: string;
  probability: number;
  scores: ClassScore[];
  latencyMs: number;
  createdAt: Date;
  /** In the audit sample: the caller is asked for feedback on this one (recorded; false when absent). */
  feedbackRequested?: boolean;
  /** Who asked for it (the principal's name, or 'anonymous'); null for predictions stored before it was recorded. */
  source?: string | null;
}
