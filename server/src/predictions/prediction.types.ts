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
}
