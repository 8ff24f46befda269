import { Worker } from 'node:worker_threads';
import type { TaskDefinition } from '../tasks/task-definition.js';
import type { TaskInput } from '../tasks/task.js';
import type { FittedModel, PreparedDataset } from './train.js';

export type TrainingRequest = { definition: TaskDefinition; maxTrainingRows?: number; recentRows: number } & (
  | { kind: 'bootstrap' }
  | {
      kind: 'retrain';
      /** The parent dataset's rows as bytes: moved (not copied) into the worker. */
      parentJsonl: Uint8Array | null;
      feedback: { id: number; input: TaskInput; label: string }[];
      championArtifact: unknown;
    }
);

/** A built dataset as it crosses threads: its rows as bytes, moved rather than copied. */
export type SnapshotMessage = Omit<PreparedDataset, 'jsonl'> & { jsonl: Uint8Array };

export type WorkerMessage =
  | { type: 'snapshot'; dataset: SnapshotMessage }
  | { type: 'step'; step: 'TRAINING' | 'EVALUATING' }
  | { type: 'done'; fitted: FittedModel }
  | { type: 'error'; message: string };

export interface TrainingCallbacks {
  /** The dataset is built; storing it may run while the model trains. */
  onSnapshot(dataset: SnapshotMessage): Promise<void>;
  onStep(step: 'TRAINING' | 'EVALUATING'): void;
}

/**
 * Builds the dataset and fits the model in a worker thread. Resolves once the model is fitted
 * and the snapshot callback has finished; rejects on the first failure of either.
 */
export function trainInWorker(request: TrainingRequest, callbacks: TrainingCallbacks): Promise<FittedModel> {
  return new Promise((resolve, reject) => {
    // Large rows travel as transferred bytes: copying a 150 MB string would stall this thread.
    const transferList = request.kind === 'retrain' && request.parentJsonl ? [ownBuffer(request.parentJsonl)] : [];
    if (request.kind === 'retrain' && request.parentJsonl) request = { ...request, parentJsonl: new Uint8Array(transferList[0]!) };
    const worker = new Worker(new URL('./training-worker.ts', import.meta.url), {
      workerData: request,
      transferList,
      execArgv: workerLoaderFlags(),
    });
    let settled = false;
    let fitted = false;
    let snapshot: Promise<void> = Promise.reject(new Error('the training worker sent no dataset'));
    snapshot.catch(() => {});
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'snapshot':
          snapshot = callbacks.onSnapshot(message.dataset);
          snapshot.catch(fail);
          break;
        case 'step':
          callbacks.onStep(message.step);
          break;
        case 'done':
          fitted = true;
          snapshot.then(() => {
            if (settled) return;
            settled = true;
            void worker.terminate();
            resolve(message.fitted);
          }, fail);
          break;
        case 'error':
          fail(new Error(`training ${request.definition.name} failed: ${message.message}`));
          break;
      }
    });
    worker.once('error', fail);
    worker.once('exit', (code) => {
      // After its result the worker ends by itself; only an exit before it is a failure.
      if (!fitted) fail(new Error(`training worker for ${request.definition.name} exited with code ${code} before finishing`));
    });
  });
}

/** An ArrayBuffer holding exactly these bytes (a Buffer may be a view into a shared pool). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/**
 * The worker is TypeScript: it loads through tsx whatever started this process (the tsx CLI,
 * `node --import tsx`, vitest). Only loader flags are passed on: V8 flags are refused in workers.
 */
function workerLoaderFlags(): string[] {
  const flags: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((arg === '--import' || arg === '--require') && argv[i + 1]?.includes('tsx')) flags.push(arg, argv[++i]!);
    else if (/^--(import|require)=.*tsx/.test(arg)) flags.push(arg);
  }
  return flags.length > 0 ? flags : ['--import', 'tsx'];
}
