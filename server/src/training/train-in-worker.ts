import { Worker } from 'node:worker_threads';
import type { TaskDefinition } from '../tasks/task-definition.js';
import type { FittedModel, PreparedDataset } from './train.js';

export type TrainingRequest = {
  definition: TaskDefinition;
  maxTrainingRows?: number;
  recentRows: number;
  /** Bytes per dataset chunk file of a retrain (DATASET_CHUNK_BYTES). */
  chunkBytes?: number;
} & (
  | { kind: 'bootstrap' }
  | {
      kind: 'retrain';
      championArtifact: unknown;
      /** Feedback ids whose parent rows are left out (retracted as the new rows' snapshot sees them). */
      retracted: number[];
    }
);

/** The rows of a retrain, in order: the parent dataset's chunks, then pages of new feedback. */
export type TrainingInput =
  | { type: 'parent'; /** Whole JSON Lines of dataset rows, moved (not copied) into the worker. */ bytes: Uint8Array }
  | { type: 'feedback'; /** JSON Lines of `[id, label, input]`. */ lines: string };

export type WorkerInput = TrainingInput | { type: 'end' };

/**
 * A built dataset as it crosses threads, its rows as bytes, moved rather than copied: all of them
 * for a bootstrap (a corpus is read whole anyway) or a small retrain, else the last chunk (the
 * earlier ones went to `onChunk` as they were built).
 */
export type SnapshotMessage = Omit<PreparedDataset, 'jsonl'> & { jsonl: Uint8Array };

export type WorkerMessage =
  | { type: 'chunk'; bytes: Uint8Array }
  | { type: 'ready' }
  | { type: 'snapshot'; dataset: SnapshotMessage }
  | { type: 'step'; step: 'TRAINING' | 'EVALUATING' }
  | { type: 'done'; fitted: FittedModel }
  | { type: 'error'; message: string };

export interface TrainingCallbacks {
  /** A retrain's rows, read as the worker asks for them. */
  input?: AsyncIterable<TrainingInput>;
  /** The next chunk of a large dataset's rows (whole lines, in order) but the last; the next input waits for it. */
  onChunk?(bytes: Uint8Array): Promise<void>;
  /** The dataset is built (its earlier chunks were passed to onChunk); storing it may run while the model is judged. */
  onSnapshot(dataset: SnapshotMessage): Promise<void>;
  onStep(step: 'TRAINING' | 'EVALUATING'): void;
}

/** Input messages the worker may hold at once (each is a page or a dataset chunk, a few MB). */
const IN_FLIGHT = 2;

/**
 * Builds the dataset and fits the model in a worker thread, fed `input` (a retrain's rows) a few
 * chunks at a time, so neither thread holds more than a few chunks whatever the row count.
 * Resolves once the model is fitted and the snapshot callback has finished; rejects on the first
 * failure of the worker, the input or a callback.
 */
export function trainInWorker(request: TrainingRequest, callbacks: TrainingCallbacks): Promise<FittedModel> {
  const input = callbacks.input;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./training-worker.ts', import.meta.url), { workerData: request, execArgv: workerLoaderFlags() });
    let settled = false;
    let fitted = false;
    let snapshot: Promise<void> = Promise.reject(new Error('the training worker sent no dataset'));
    snapshot.catch(() => {});
    let storing: Promise<void> = Promise.resolve();
    let credits = IN_FLIGHT;
    let wake: (() => void) | null = null;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      wake?.();
      void worker.terminate();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'chunk': {
          const bytes = message.bytes;
          const store = callbacks.onChunk;
          if (!store) return fail(new Error('the training worker sent a chunk nobody stores'));
          storing = storing.then(() => store(bytes));
          storing.catch(fail);
          break;
        }
        case 'ready':
          credits++;
          wake?.();
          break;
        case 'snapshot': {
          const dataset = message.dataset;
          snapshot = storing.then(() => callbacks.onSnapshot(dataset));
          snapshot.catch(fail);
          break;
        }
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
    if (!input) return;
    void (async () => {
      for await (const message of input) {
        // Back-pressure both ways: the worker has parsed all but IN_FLIGHT messages, and the chunks it made are stored.
        while (credits === 0 && !settled) await new Promise<void>((r) => (wake = r));
        wake = null;
        await storing;
        if (settled) return;
        credits--;
        if (message.type === 'parent') {
          const buffer = ownBuffer(message.bytes);
          worker.postMessage({ type: 'parent', bytes: new Uint8Array(buffer) } satisfies WorkerInput, [buffer]);
        } else worker.postMessage(message satisfies WorkerInput);
      }
      if (!settled) worker.postMessage({ type: 'end' } satisfies WorkerInput);
    })().catch(fail);
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
