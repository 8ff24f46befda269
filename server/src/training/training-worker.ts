/**
 * Runs in a worker thread: loading a corpus, building a dataset and fitting a model take seconds
 * of CPU that must not stall the serving event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBootstrapRows } from '../tasks/data-sources.js';
import { Task } from '../tasks/task.js';
import { buildDataset, fitAndEvaluate, parseDatasetJsonl, type DatasetRow } from './train.js';
import type { TrainingRequest, WorkerMessage } from './train-in-worker.js';

const request = workerData as TrainingRequest;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

try {
  const task = new Task(request.definition);
  let parent: DatasetRow[] = [];
  let fresh: DatasetRow[];
  if (request.kind === 'bootstrap') {
    fresh = await loadBootstrapRows(request.definition);
  } else {
    parent = request.parentJsonl ? parseDatasetJsonl(new TextDecoder().decode(request.parentJsonl)) : [];
    fresh = request.feedback.map((f) => ({ input: f.input, label: f.label, source: 'feedback', feedbackId: f.id }));
  }
  const built = buildDataset(task, parent, fresh, request.maxTrainingRows === undefined ? {} : { maxTrainingRows: request.maxTrainingRows });
  const rows = new TextEncoder().encode(built.summary.jsonl);
  parentPort!.postMessage({ type: 'snapshot', dataset: { ...built.summary, jsonl: rows } } satisfies WorkerMessage, [rows.buffer]);
  const fitted = fitAndEvaluate(
    task,
    built.rows,
    {
      recentRows: request.recentRows,
      ...(request.kind === 'retrain' && request.championArtifact
        ? // The parent dataset is the champion's: its rows, split as they were, are what it was judged on.
          { championArtifact: request.championArtifact, championRows: buildDataset(task, parent, []).rows }
        : {}),
    },
    (step) => post({ type: 'step', step }),
  );
  post({ type: 'done', fitted });
} catch (error) {
  post({ type: 'error', message: (error as Error).stack ?? String(error) });
}
