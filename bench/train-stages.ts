// Where a 1M-row retrain spends its time (`tsx bench/train-stages.ts [--rows N=1000000]`).
//
// Replays, in this process and one worker thread, what a retrain of fraud1m does, stage by stage,
// with the repository's own functions (buildDataset, parseDatasetJsonl, fitAndEvaluate, Task):
//   main thread: read the parent rows blob (readFile + toString), hand it to a worker
//                (workerData structured clone), receive the new dataset's JSONL back (postMessage),
//                write it to the blob store (writeFile of a string);
//   worker:      parse JSONL, buildDataset (validate, canonical key, sha1 split, dedupe, lines,
//                join + sha256), fit, evaluate.
// Each main-thread stage also reports the longest event-loop stall it caused (a 1 ms ticker), since
// that is what a prediction waiting on the same event loop feels. Then a few alternatives for the
// costly per-row parts, timed on the same rows, to size the gains.
import { createHash, hash as oneShotHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { generateFraudRows, generateInitialData } from '../server/src/tasks/data/fraud-generator.js';
import { readTaskDefinition } from '../server/src/tasks/task-definition.js';
import { Task, type TaskInput } from '../server/src/tasks/task.js';
import { buildDataset, fitAndEvaluate, isHoldout, parseDatasetJsonl, type DatasetRow } from '../server/src/training/train.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, help: { type: 'boolean', default: false } } });
if (args.help) {
  console.log('tsx bench/train-stages.ts [--rows N=1000000]   stage timings of one retrain, replayed in process');
  process.exit(0);
}
const ROWS = Number(args.rows);
const FEEDBACK = 2000;

const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;
const results: { stage: string; ms: number; stallMs?: number; note?: string }[] = [];
function record(stage: string, ms: number, extra: { stallMs?: number; note?: string } = {}) {
  results.push({ stage, ms, ...extra });
  console.log(
    `${stage.padEnd(58)} ${fmt(ms)}${extra.stallMs !== undefined ? `   longest event-loop stall ${fmt(extra.stallMs)}` : ''}${extra.note ? `   ${extra.note}` : ''}`,
  );
}
function time<T>(stage: string, fn: () => T, note?: string): T {
  const t0 = performance.now();
  const out = fn();
  record(stage, performance.now() - t0, note ? { note } : {});
  return out;
}
/** Runs an async main-thread stage with a 1 ms ticker: the longest gap is the stall it caused. */
async function stalls<T>(stage: string, fn: () => Promise<T>): Promise<T> {
  let last = performance.now();
  let worst = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  last = performance.now();
  const t0 = performance.now();
  const out = await fn();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(ticker);
  record(stage, ms, { stallMs: worst });
  return out;
}

const definition = await readTaskDefinition(new URL('./tasks/fraud1m.json', import.meta.url).pathname);
const task = new Task(definition);
console.log(
  `${ROWS.toLocaleString('en-US')} parent rows + ${FEEDBACK} feedback rows, task fraud1m, node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores\n`,
);

// The parent dataset as the bootstrap stored it.
const bootstrap = buildDataset(task, [], generateInitialData(ROWS, { seed: 42 }) as unknown as DatasetRow[]);
const tmp = mkdtempSync(join(os.tmpdir(), 'relearn-train-stages-'));
const parentFile = join(tmp, 'rows.jsonl');
await writeFile(parentFile, bootstrap.summary.jsonl);
const parentMB = Buffer.byteLength(bootstrap.summary.jsonl) / 2 ** 20;
console.log(`parent rows.jsonl: ${parentMB.toFixed(1)} MB\n`);
const feedback = generateFraudRows(FEEDBACK, { seed: 7, drift: 1 }).map((r, i) => ({ id: i + 1, input: r.input as unknown as TaskInput, label: r.label }));

console.log('main thread');
const buffer = await stalls('blobs.get: readFile', () => readFile(parentFile));
const parentJsonl = await stalls('blobs.get: buffer.toString(utf8)', async () => buffer.toString('utf8'));

// A worker that receives the same request as the training worker and sends back a JSONL of the
// same size: the structured-clone costs both ways.
const echo = `
  const { parentPort, workerData } = require('node:worker_threads');
  parentPort.postMessage({ type: 'snapshot', dataset: { jsonl: workerData.back } });
  parentPort.once('message', () => process.exit(0));`;
let worker!: Worker;
const got = await stalls(
  'new Worker({workerData: {parentJsonl}}) + clone back',
  () =>
    new Promise<string>((resolve) => {
      worker = new Worker(echo, { eval: true, workerData: { parentJsonl, back: parentJsonl, feedback } });
      worker.once('message', (m: { dataset: { jsonl: string } }) => resolve(m.dataset.jsonl));
    }),
);
worker.postMessage('bye');
{
  const t0 = performance.now();
  const w = new Worker(echo, { eval: true, workerData: { parentJsonl, back: '', feedback } });
  record('  of which new Worker(): serialize workerData (sync)', performance.now() - t0);
  await new Promise((r) => w.once('message', r));
  w.postMessage('bye');
}
{
  let recv = 0;
  let worst = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  const w = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads'); parentPort.once('message', () => parentPort.postMessage(workerData.s));`,
    { eval: true, workerData: { s: parentJsonl } },
  );
  await new Promise((r) => setTimeout(r, 500));
  last = performance.now();
  worst = 0;
  const t0 = performance.now();
  w.postMessage('go');
  await new Promise<void>((r) => w.once('message', (s: string) => ((recv = s.length), r())));
  const ms = performance.now() - t0;
  clearInterval(ticker);
  await w.terminate();
  record(`  of which receive a ${parentMB.toFixed(0)} MB string message (deserialize)`, ms, { stallMs: worst, note: `${recv} chars` });
}
{
  // Alternative: bytes both ways, moved with transferList (no copy, no UTF-8 work on this thread).
  const bytes = await readFile(parentFile);
  const echoBytes = `
    const { parentPort, workerData } = require('node:worker_threads');
    const text = Buffer.from(workerData.parent).toString('utf8');
    const out = Buffer.from(text);
    parentPort.postMessage({ type: 'snapshot', bytes: out }, [out.buffer]);
    parentPort.once('message', () => process.exit(0));`;
  let back!: Uint8Array;
  const w = await stalls(
    '  alternative: Buffers with transferList, both ways',
    () =>
      new Promise<Worker>((resolve) => {
        const wk = new Worker(echoBytes, { eval: true, workerData: { parent: bytes, feedback }, transferList: [bytes.buffer as ArrayBuffer] });
        wk.once('message', (m: { bytes: Uint8Array }) => ((back = m.bytes), resolve(wk)));
      }),
  );
  w.postMessage('bye');
  await stalls('  alternative: blobs.put: writeFile(transferred bytes)', () => writeFile(join(tmp, 'out3.jsonl'), back));
}
await stalls('blobs.put: writeFile(string)', () => writeFile(join(tmp, 'out.jsonl'), got));

console.log('\nworker (a retrain: parent + feedback)');
const parent = time('parseDatasetJsonl', () => parseDatasetJsonl(parentJsonl));
const fresh: DatasetRow[] = feedback.map((f) => ({ input: f.input, label: f.label, source: 'feedback', feedbackId: f.id }));
const built = time('buildDataset (all of it)', () => buildDataset(task, parent, fresh));
const fitted = time('fitAndEvaluate (fit + evaluate)', () => fitAndEvaluate(task, built.rows, { recentRows: 200, championArtifact: null }));
void fitted;
{
  let t = performance.now();
  let training = 0;
  fitAndEvaluate(task, built.rows, { recentRows: 200 }, (step) => {
    const now = performance.now();
    if (step === 'EVALUATING') training = now - t;
    t = now;
  });
  record('  of which fit (encode + learn)', training);
  record('  of which evaluate', performance.now() - t);
}

console.log('\n  buildDataset, its parts re-timed one by one over the same rows');
const validated = time('  task.validate (zod safeParse) per row', () => parent.map((r) => task.validate(r.input)));
const features = task.definition.features.map((f) => f.name);
const canonical = time('  canonicalInput (Object.fromEntries)', () =>
  validated.map((input) => Object.fromEntries(features.map((f) => [f, input[f]!])) as TaskInput),
);
const keys = time('  key = JSON.stringify([canonical, label])', () => canonical.map((c, i) => JSON.stringify([c, parent[i]!.label])));
time('  seen Set<string> add/has', () => {
  const seen = new Set<string>();
  for (const k of keys) if (!seen.has(k)) seen.add(k);
  return seen.size;
});
time('  isHoldout: createHash(sha1).update().digest() per row', () => keys.filter((k) => isHoldout(k, 0.2)).length);
time('  OutlierBounds: Float64Array.from + sort, MADs + sort (4 features)', () => {
  const numericNames = task.definition.features.filter((f) => f.type === 'float' || f.type === 'int').map((f) => f.name);
  return numericNames.map((f) => {
    const sorted = Float64Array.from(validated.map((v) => v[f] as number)).sort();
    const median = sorted[sorted.length >> 1]!;
    const deviations = Float64Array.from(sorted, (v) => Math.abs(v - median)).sort();
    return deviations[deviations.length >> 1]!;
  });
});
const lines = time('  line = JSON.stringify({input, label, source})', () =>
  canonical.map((c, i) => JSON.stringify({ input: c, label: parent[i]!.label, source: parent[i]!.source ?? 'unknown' })),
);
const jsonl = time('  lines.join + sha256(jsonl)', () => {
  const j = lines.join('\n') + '\n';
  createHash('sha256').update(j).digest('hex');
  return j;
});
void jsonl;

console.log('\n  alternatives (same rows)');
const numeric = task.definition.features.flatMap((f) => (f.type === 'float' || f.type === 'int' ? [f] : []));
const cats = task.definition.features.flatMap((f) => (f.type === 'category' ? [f] : []));
const fastOk = (x: Record<string, unknown>) => {
  let n = 0;
  for (const k in x) {
    n++;
    if (!features.includes(k)) return false;
  }
  if (n !== features.length) return false;
  for (const f of numeric) {
    const v = x[f.name];
    if (typeof v !== 'number' || !Number.isFinite(v) || (f.type === 'int' && !Number.isInteger(v))) return false;
    if (f.exclusiveMin ? !(v > f.min) : !(v >= f.min)) return false;
    if (!(v <= f.max)) return false;
  }
  for (const f of cats) {
    const v = x[f.name];
    if (typeof v !== 'string' || v.length === 0 || v.length > f.maxLength || v.trim() !== v) return false;
  }
  return true;
};
time('  compiled plain-JS check (zod only when it fails)', () => parent.filter((r) => fastOk(r.input as Record<string, unknown>)).length);
time(
  '  isHoldout with crypto.hash(sha1, key, buffer) (same bits)',
  () => keys.filter((k) => (oneShotHash('sha1', k, 'buffer') as Buffer).readUInt32BE(0) / 0x1_0000_0000 < 0.2).length,
);
time('  parent lines reused verbatim (split of the JSONL, no stringify)', () => {
  const out: string[] = [];
  let start = 0;
  while (start < parentJsonl.length) {
    let end = parentJsonl.indexOf('\n', start);
    if (end === -1) end = parentJsonl.length;
    if (end > start) out.push(parentJsonl.slice(start, end));
    start = end + 1;
  }
  return out.length;
});

rmSync(tmp, { recursive: true, force: true });
const total = (names: string[]) => results.filter((r) => names.includes(r.stage)).reduce((a, r) => a + r.ms, 0);
console.log(
  `\nworker total (parse + buildDataset + fitAndEvaluate): ${total(['parseDatasetJsonl', 'buildDataset (all of it)', 'fitAndEvaluate (fit + evaluate)']).toFixed(0)} ms`,
);
process.exit(0);
