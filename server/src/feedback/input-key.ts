import { createHash } from 'node:crypto';
import type { Task, TaskInput } from '../tasks/task.js';

/**
 * The identity of an input, whoever labels it: sha-256 of its features in the task's order. Two
 * sources labelling the same input are compared through it (trust/trust-gate.ts); a client cannot
 * make one input look like another without sending that other input.
 */
export function inputKey(task: Task, input: TaskInput): string {
  const canonical = task.definition.features.map((f) => input[f.name] ?? null);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
