/**
 * Runs in a worker thread: loading a corpus and fitting a model take seconds of CPU that must
 * not stall the serving event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBootstrapRows } from '../tasks/data-sources.js';
import type { TaskDefinition } from '../tasks/task-definition.js';
import { Task } from '../tasks/task.js';
import { trainTask } from './train.js';

const definition = workerData as TaskDefinition;
try {
  const task = new Task(definition);
  const result = trainTask(task, await loadBootstrapRows(definition));
  parentPort!.postMessage({ ok: true, result });
} catch (error) {
  parentPort!.postMessage({ ok: false, message: (error as Error).stack ?? String(error) });
}
