import { Worker } from 'node:worker_threads';
import type { TaskDefinition } from '../tasks/task-definition.js';
import type { TrainedModel } from './train.js';

/** Trains a task's bootstrap model off the main thread. */
export function trainBootstrapInWorker(definition: TaskDefinition): Promise<TrainedModel> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./training-worker.ts', import.meta.url), {
      workerData: definition,
      // The worker is TypeScript: load it through tsx whatever started this process (tsx, vitest).
      execArgv: process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', 'tsx'],
    });
    let settled = false;
    worker.once('message', (message: { ok: true; result: TrainedModel } | { ok: false; message: string }) => {
      settled = true;
      if (message.ok) resolve(message.result);
      else reject(new Error(`training ${definition.name} failed: ${message.message}`));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (!settled) reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`training worker for ${definition.name} exited with code ${code}`));
    });
  });
}
