import type { TaskDefinition } from './task-definition.js';
import { MERCHANT_CATEGORIES } from './data/fraud-generator.js';

/**
 * The values of a task's category features that its bootstrap data contains, by feature name, so
 * a client can offer them and say when a value was never seen in training. Categories are hashed
 * into buckets by the model (task-definition.ts), so the model itself cannot list them: they come
 * from the data source that generated the training rows. Empty for sources that do not know theirs.
 */
export function knownCategories(definition: Pick<TaskDefinition, 'dataset'>): Readonly<Record<string, readonly string[]>> {
  if (definition.dataset.source === 'synthetic-fraud') return { merchantCategory: MERCHANT_CATEGORIES };
  return {};
}
