import { describe, expect, it } from 'vitest';
import { generateFraudRows, generateInitialData } from '../tasks/data/fraud-generator.js';
import { readTaskDefinition } from '../tasks/task-definition.js';
import { Task } from '../tasks/task.js';
import { datasetLines, StreamingTrainer } from './streaming-training.js';
import { buildDataset, fitAndEvaluate, type DatasetRow } from './train.js';

const definitions = new URL('../tasks/definitions/', import.meta.url).pathname;

/** Every number in `actual` within 1e-9 of the same place in `expected`, everything else equal. */
function expectClose(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isFinite(expected)) expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
    else expect(actual, path).toBe(expected);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, path).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, e] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[k], e, `${path}.${k}`);
  } else expect(actual, path).toEqual(expected);
}

async function fraudCase() {
  const task = new Task(await readTaskDefinition(`${definitions}fraud.json`));
  const bootstrap = generateInitialData(600, { seed: 3 }) as unknown as DatasetRow[];
  const parentFeedback = generateFraudRows(150, { seed: 4 }).map((r, i) => ({
    input: r.input,
    label: r.label,
    source: 'feedback',
    feedbackId: i + 1,
  })) as unknown as DatasetRow[];
  const fresh = generateFraudRows(400, { seed: 5, drift: 1 }).map((r, i) => ({
    input: r.input,
    label: r.label,
    source: 'feedback',
    feedbackId: 1000 + i,
  })) as unknown as DatasetRow[];
  // Dropped on the way: an invalid row, an unknown label, an outlier, a bootstrap duplicate, a repeated feedback id.
  bootstrap.push({ ...bootstrap[0]! }, { input: { amount: 'x' } as never, label: 'fraud' });
  fresh.push({ ...fresh[0]!, input: { ...fresh[0]!.input, amount: 1e12 } as never, feedbackId: 5000 }, { ...fresh[1]!, label: 'nope' }, { ...fresh[2]! });
  return { task, parent: [...bootstrap, ...parentFeedback], fresh, retracted: new Set([3, 7, 1001]) };
}

async function spamCase() {
  const task = new Task(await readTaskDefinition(`${definitions}spam.json`));
  const words = ['cheap', 'meeting', 'offer', 'tomorrow', 'winner', 'report', 'free', 'lunch', 'prize', 'budget', 'click', 'notes'];
  const text = (i: number) => Array.from({ length: 3 + (i % 7) }, (_, j) => words[(i * 7 + j * 5) % words.length]).join(' ');
  const label = (i: number) => (text(i).includes('free') || text(i).includes('prize') ? 'spam' : 'ham');
  const parent = Array.from({ length: 400 }, (_, i) => ({ input: { text: `${text(i)} ${i}` }, label: label(i), source: 'corpus' })) as DatasetRow[];
  const fresh = Array.from({ length: 300 }, (_, i) => ({
    input: { text: `${text(i + 11)} x${i}` },
    label: label(i + 11),
    source: 'feedback',
    feedbackId: 10 + i,
  })) as unknown as DatasetRow[];
  parent.push({ ...parent[0]! });
  return { task, parent, fresh, retracted: new Set([12]) };
}

describe('streamed training equals the in-memory path', () => {
  for (const [name, make] of [
    ['fraud', fraudCase],
    ['spam', spamCase],
  ] as const) {
    for (const maxTrainingRows of [undefined, 500]) {
      it(`${name}${maxTrainingRows ? `, a window of ${maxTrainingRows}` : ''}: same rows, hash, statistics and gate reports (1e-9)`, async () => {
        const { task, parent, fresh, retracted } = await make();
        const champion = fitAndEvaluate(task, buildDataset(task, parent, []).rows, { recentRows: 50 }).artifact;
        const options = maxTrainingRows === undefined ? {} : { maxTrainingRows };

        const kept = parent.filter((r) => r.feedbackId === undefined || !retracted.has(r.feedbackId));
        const built = buildDataset(task, kept, fresh, options);
        const expected = fitAndEvaluate(task, built.rows, { recentRows: 50, championArtifact: champion, championRows: buildDataset(task, kept, []).rows });

        const chunks: Uint8Array[] = [];
        const trainer = new StreamingTrainer(task, {
          ...options,
          recentRows: 50,
          championArtifact: champion,
          retracted,
          chunkBytes: 4096,
          onChunk: (c) => chunks.push(c),
        });
        for (const row of parent) trainer.addParent(row);
        for (const row of fresh) trainer.addNew(row);
        const summary = trainer.finishDataset();
        const fitted = await trainer.evaluate();

        expect(chunks.length).toBeGreaterThan(1);
        const jsonl = Buffer.concat(chunks).toString('utf8');
        expect(jsonl).toBe(built.summary.jsonl);
        expect([...chunks.flatMap((c) => [...datasetLines(c)])]).toEqual(built.summary.jsonl.split('\n').filter(Boolean));
        const { jsonl: _jsonl, ...expectedSummary } = built.summary;
        expect(summary).toEqual(expectedSummary);
        expect(summary.droppedRows).toBeGreaterThan(0);
        expect(expected.champion).not.toBeNull();
        expectClose(fitted, expected);
      });
    }
  }
});
