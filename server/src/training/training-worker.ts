/**
 * Runs in a worker thread: loading a corpus, building a dataset and fitting a model take seconds
 * of CPU that must not stall the serving event loop. A retrain's rows arrive as messages (the
 * parent dataset's chunks, then pages of feedback) and are trained on as they come; see
 * streaming-training.ts.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { loadBootstrapRows } from '../tasks/data-sources.js';
import { Task, type TaskInput } from '../tasks/task.js';
import { datasetLines, StreamingTrainer } from './streaming-training.js';
import type { DatasetRow } from './train.js';
import type { TrainingRequest, WorkerInput, WorkerMessage } from './train-in-worker.js';

const TRAINING_NICE = 10;

const request = workerData as TrainingRequest;

/**
 * Training yields the cores to serving: on Linux a nice value is per thread, and this thread's id
 * is the tail of /proc/thread-self. Nice 10 leaves a busy machine's CPU to the serving thread
 * first; on an idle one the retrain still gets a whole core. Elsewhere nothing changes.
 */
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), TRAINING_NICE);
} catch {
  // not Linux, or not allowed: train at the process's priority
}
const port = parentPort!;
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const fail = (error: unknown) => post({ type: 'error', message: (error as Error).stack ?? String(error) });

let held: Uint8Array | null = null;

try {
  const task = new Task(request.definition);
  const trainer = new StreamingTrainer(task, {
    recentRows: request.recentRows,
    ...(request.maxTrainingRows === undefined ? {} : { maxTrainingRows: request.maxTrainingRows }),
    ...(request.kind === 'retrain' && request.championArtifact ? { championArtifact: request.championArtifact } : {}),
    ...(request.kind === 'retrain' && request.retracted.length > 0 ? { retracted: new Set(request.retracted) } : {}),
    // A bootstrap's dataset travels whole (its corpus is in memory anyway): one chunk.
    ...(request.kind === 'bootstrap' ? { chunkBytes: Infinity } : request.chunkBytes === undefined ? {} : { chunkBytes: request.chunkBytes }),
    onChunk: (bytes) => {
      // The newest chunk is held back: the last one travels with the summary.
      if (held) post({ type: 'chunk', bytes: held }, [held.buffer as ArrayBuffer]);
      held = bytes;
    },
  });
  const finish = async () => {
    const summary = trainer.finishDataset();
    const jsonl = held ?? new Uint8Array(0);
    post({ type: 'snapshot', dataset: { ...summary, jsonl } }, [jsonl.buffer as ArrayBuffer]);
    post({ type: 'step', step: 'EVALUATING' });
    post({ type: 'done', fitted: await trainer.evaluate() });
  };
  post({ type: 'step', step: 'TRAINING' });
  if (request.kind === 'bootstrap') {
    for (const row of await loadBootstrapRows(request.definition)) trainer.addNew(row);
    await finish();
  } else {
    port.on('message', (message: WorkerInput) => {
      try {
        if (message.type === 'parent') {
          for (const line of datasetLines(message.bytes)) trainer.addParent(JSON.parse(line) as DatasetRow);
        } else if (message.type === 'feedback') {
          // Line by line off the page (no array of its lines): each row's strings and objects die young.
          const lines = message.lines;
          for (let start = 0; start < lines.length;) {
            let end = lines.indexOf('\n', start);
            if (end === -1) end = lines.length;
            if (end > start) {
              const [id, label, input] = JSON.parse(lines.slice(start, end)) as [number, string, TaskInput];
              trainer.addNew({ input, label, source: 'feedback', feedbackId: id });
            }
            start = end + 1;
          }
        } else {
          port.removeAllListeners('message');
          return void finish().catch(fail);
        }
        post({ type: 'ready' });
      } catch (error) {
        fail(error);
      }
    });
  }
} catch (error) {
  fail(error);
}
