import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NaiveBayesModel, type EncodedExample } from '../ml/naive-bayes.js';
import type { ClassificationReport } from '../metrics/classification-report.js';
import { isAppError } from '../shared/app-error.js';
import type { Task, TaskInput } from '../tasks/task.js';
import { isHoldout, OutlierBounds, ReportAccumulator, type DatasetRow, type DropReason, type FittedModel, type PreparedDataset } from './train.js';

/**
 * Training at any row count, in two passes with memory flat in the number of rows: the dataset is
 * built row by row (the same rules as `buildDataset`, in the same order), its canonical lines are
 * hashed and cut into chunk files as they come, and naive Bayes' sufficient statistics accumulate
 * as they come; the held-out rows are spilled to a temporary file and judged in a second pass,
 * once the challenger has seen every training row. Results equal `buildDataset` + `fitAndEvaluate`
 * on the same rows (the same learn order, the same sums).
 *
 * What still grows with the rows, compactly: the parent's numeric values (8 bytes per value, for
 * the outlier bounds' medians), a bitmap of feedback ids (a bit per id), the content keys of rows
 * without a feedback id (bootstrap corpora, loaded whole anyway), and with `maxTrainingRows` the
 * window itself (bounded by that setting).
 */
export interface StreamingOptions {
  maxTrainingRows?: number;
  recentRows: number;
  championArtifact?: unknown;
  /** Parent rows holding these feedback ids are left out (retracted as the new rows' snapshot sees them). */
  retracted?: ReadonlySet<number>;
  /** Bytes per dataset chunk file. */
  chunkBytes?: number;
  /** Receives each finished chunk of canonical JSON Lines, in order; the bytes own their whole buffer (transferable to another thread). */
  onChunk: (bytes: Uint8Array) => void;
}

interface Kept {
  input: TaskInput;
  label: string;
  source: string;
  holdout: boolean;
  line: string;
  feedbackId: number | undefined;
}

export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

export class StreamingTrainer {
  private readonly holdoutFraction: number;
  private readonly numeric: string[];
  private readonly features: string[];
  /** `{"name":` then `,"name":`: each feature's key as the canonical input's JSON writes it. */
  private readonly jsonKeys: string[];
  private readonly labelJson: Map<string, string>;
  private readonly dropped: Record<DropReason, number> = { invalid: 0, outlier: 0, duplicate: 0, window: 0 };
  private readonly seenKeys = new Set<string>();
  private readonly seenFeedback = new Bitmap();
  private parentValues: GrowableFloats[];
  private bounds: OutlierBounds | null = null;
  private parentDone = false;
  /** With a window, the newest kept rows wait here until the input ends; without one they are emitted at once. */
  private readonly window: Ring<Kept> | null;
  private readonly model: NaiveBayesModel;
  private readonly champion: { served: NaiveBayesModel; judged: NaiveBayesModel } | null;
  private readonly labelCounts: Record<string, number>;
  private readonly sources = new Set<string>();
  private rowCount = 0;
  private holdoutRows = 0;
  private minFeedback = Infinity;
  private maxFeedback = -Infinity;
  private readonly hash: Hash = createHash('sha256');
  private readonly chunk = new LineBuffer();
  private readonly spill: HoldoutSpill;

  constructor(
    private readonly task: Task,
    private readonly options: StreamingOptions,
  ) {
    this.holdoutFraction = task.definition.dataset.holdoutFraction;
    this.features = task.definition.features.map((f) => f.name);
    this.jsonKeys = this.features.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f)}:`);
    this.labelJson = new Map(task.labels.map((l) => [l, JSON.stringify(l)]));
    this.numeric = task.definition.features.filter((f) => f.type === 'float' || f.type === 'int').map((f) => f.name);
    this.parentValues = this.numeric.map(() => new GrowableFloats());
    this.window = options.maxTrainingRows === undefined ? null : new Ring<Kept>(options.maxTrainingRows);
    this.model = NaiveBayesModel.create(task.modelSpec);
    this.labelCounts = Object.fromEntries(task.labels.map((l) => [l, 0]));
    if (options.championArtifact) {
      const served = NaiveBayesModel.fromJSON(options.championArtifact);
      // Retrained with today's text encoding, so it reads the same encoded holdout as the challenger.
      this.champion = { served, judged: NaiveBayesModel.create({ ...served.spec, tokens: task.modelSpec.tokens ?? served.spec.tokens }) };
    } else this.champion = null;
    this.spill = new HoldoutSpill();
  }

  /** A row of the parent dataset (all of them come before the first new row). */
  addParent(row: DatasetRow): void {
    if (this.parentDone) throw new Error('parent rows after new rows');
    if (row.feedbackId !== undefined && this.options.retracted?.has(row.feedbackId)) return;
    this.add(row, false);
  }

  addNew(row: DatasetRow): void {
    if (!this.parentDone) this.endParent();
    this.add(row, true);
  }

  private endParent(): void {
    this.parentDone = true;
    if (this.numeric.length > 0 && this.parentValues[0]!.length >= 30) {
      this.bounds = new OutlierBounds(
        this.numeric,
        this.parentValues.map((v) => v.values()),
      );
    }
    this.parentValues = [];
  }

  private add(row: DatasetRow, isNew: boolean): void {
    const { task, dropped } = this;
    let input: TaskInput;
    // The plain check passes the rows zod would pass unchanged (nearly all of them, in bulk); zod judges the rest as before.
    if (task.isPlainValid(row.input)) input = row.input;
    else {
      try {
        input = task.validate(row.input);
      } catch (error) {
        if (isAppError(error, 'BAD_USER_INPUT')) return void dropped.invalid++;
        throw error;
      }
    }
    const labelJson = this.labelJson.get(row.label);
    if (labelJson === undefined) return void dropped.invalid++;
    if (isNew && this.bounds && this.bounds.isOutlier(input)) return void dropped.outlier++;
    // The input is serialised once for the key and the line, as JSON.stringify writes the canonical input (features in order).
    const inputJson = this.canonicalJson(input);
    const key = `[${inputJson},${labelJson}]`;
    const feedbackId = row.feedbackId;
    if (feedbackId === undefined) {
      if (this.seenKeys.has(key)) return void dropped.duplicate++;
      this.seenKeys.add(key);
    } else {
      if (this.seenFeedback.has(feedbackId)) return void dropped.duplicate++;
      this.seenFeedback.add(feedbackId);
    }
    if (!isNew) for (let i = 0; i < this.numeric.length; i++) this.parentValues[i]!.push(input[this.numeric[i]!] as number);
    const source = row.source ?? (feedbackId === undefined ? 'unknown' : 'feedback');
    const sourceJson = source === 'feedback' ? '"feedback"' : JSON.stringify(source);
    const line = `{"input":${inputJson},"label":${labelJson},"source":${sourceJson}${feedbackId === undefined ? '' : `,"feedbackId":${JSON.stringify(feedbackId)}`}}`;
    const kept: Kept = { input, label: row.label, source, holdout: isHoldout(key, this.holdoutFraction), line, feedbackId };
    let x: EncodedExample | undefined;
    // The champion is judged as trained on its own dataset's training split: the parent's rows as built alone.
    if (!isNew && this.champion && !kept.holdout) this.champion.judged.learn((x = task.encode(input)), kept.label);
    if (this.window) {
      if (this.window.push(kept)) dropped.window++;
    } else this.emit(kept, x);
  }

  /** JSON.stringify of the input's features in definition order (the canonical input), without building that object. */
  private canonicalJson(input: TaskInput): string {
    const { features, jsonKeys } = this;
    let json = '';
    for (let i = 0; i < features.length; i++) {
      const v = input[features[i]!]!;
      // A validated number is finite, where JSON.stringify writes what String does.
      json += jsonKeys[i]! + (typeof v === 'number' ? String(v) : JSON.stringify(v));
    }
    return json + '}';
  }

  private emit(row: Kept, x?: EncodedExample): void {
    this.rowCount++;
    this.labelCounts[row.label] = (this.labelCounts[row.label] ?? 0) + 1;
    if (row.feedbackId !== undefined) {
      this.minFeedback = Math.min(this.minFeedback, row.feedbackId);
      this.maxFeedback = Math.max(this.maxFeedback, row.feedbackId);
    }
    this.sources.add(row.source);
    if (this.chunk.append(row.line) >= (this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES)) this.flushChunk();
    if (row.holdout) {
      this.holdoutRows++;
      this.spill.write(row.line);
    } else this.model.learn(x ?? this.task.encode(row.input), row.label);
  }

  private flushChunk(): void {
    if (this.chunk.length === 0) return;
    const bytes = this.chunk.take();
    this.hash.update(bytes);
    this.options.onChunk(bytes);
  }

  /** Ends pass one: the dataset's summary (every chunk has been handed to `onChunk`). */
  finishDataset(): Omit<PreparedDataset, 'jsonl'> {
    if (!this.parentDone) this.endParent();
    if (this.window) for (const row of this.window.drain()) this.emit(row);
    this.flushChunk();
    this.spill.close();
    const d = this.dropped;
    return {
      contentHash: this.hash.digest('hex'),
      rowCount: this.rowCount,
      labelCounts: this.labelCounts,
      trainRows: this.rowCount - this.holdoutRows,
      holdoutRows: this.holdoutRows,
      droppedRows: d.invalid + d.outlier + d.duplicate + d.window,
      dropped: d,
      sources: [...this.sources].sort(),
      feedbackIdRange: Number.isFinite(this.minFeedback) ? [this.minFeedback, this.maxFeedback] : null,
    };
  }

  /** Pass two: challenger and champion judged on the held-out rows, then the challenger refit on them. */
  async evaluate(): Promise<FittedModel> {
    const { task, model } = this;
    try {
      if (model.sampleCount === 0) throw new Error(`task ${task.name}: no training rows`);
      const champion = this.judgedChampion();
      const served = model.clone();
      const challengerHoldout = new ReportAccumulator(task);
      const championHoldout = new ReportAccumulator(task);
      const recent = new Ring<{ x: EncodedExample; cx: EncodedExample; label: string }>(this.options.recentRows);
      for await (const line of this.spill.lines()) {
        const row = JSON.parse(line) as DatasetRow;
        // Pass one validated these rows; their canonical lines parse back to what it returned.
        const input = task.isPlainValid(row.input) ? row.input : task.validate(row.input);
        const x = task.encode(input);
        challengerHoldout.add(model.predictProba(x), row.label);
        const cx = champion?.own ? champion.own.encode(input) : x;
        if (champion) championHoldout.add(champion.model.predictProba(cx), row.label);
        if (row.feedbackId !== undefined) recent.push({ x, cx, label: row.label });
        served.learn(x, row.label);
      }
      const recentRows = [...recent.drain()];
      const report = (m: NaiveBayesModel, rows: { x: EncodedExample; label: string }[]): ClassificationReport => {
        const r = new ReportAccumulator(task);
        for (const row of rows) r.add(m.predictProba(row.x), row.label);
        return r.report();
      };
      return {
        artifact: served.toJSON(),
        challenger: { holdout: challengerHoldout.report(), recent: report(model, recentRows) },
        champion: champion
          ? {
              holdout: championHoldout.report(),
              recent: report(
                champion.model,
                recentRows.map((r) => ({ x: r.cx, label: r.label })),
              ),
            }
          : null,
      };
    } finally {
      this.spill.remove();
    }
  }

  private judgedChampion(): { model: NaiveBayesModel; own: Task | null } | null {
    if (!this.champion) return null;
    if (this.champion.judged.sampleCount > 0) return { model: this.champion.judged, own: null };
    // The artifact as served: fed the holdout the way it was trained (its own text encoding).
    const own = this.task.forModel(this.champion.served.spec);
    return { model: this.champion.served, own: own === this.task ? null : own };
  }
}

/** Splits JSON Lines bytes (whole lines) into rows. */
export function* datasetLines(bytes: Uint8Array): Generator<string> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) yield text.slice(start, end);
    start = end + 1;
  }
}

/**
 * JSON Lines written as UTF-8 into one reused buffer as each line comes: a line string dies young
 * (a scavenge), where a chunk's worth of strings held until the chunk is cut would be promoted and
 * cost the old generation's collector a mark of each (a quarter of a retrain's CPU, profiled).
 */
class LineBuffer {
  private bytes = Buffer.from(new ArrayBuffer(1 << 20));
  length = 0;

  /** Appends `line` and a newline; returns the bytes held. */
  append(line: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const need = this.length + 3 * line.length + 1;
    if (need > this.bytes.length) {
      const grown = Buffer.from(new ArrayBuffer(Math.max(need, 2 * this.bytes.length)));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    this.length += this.bytes.write(line, this.length, 'utf8');
    this.bytes[this.length++] = 0x0a;
    return this.length;
  }

  /** The bytes held, in a buffer of their own (transferable to another thread), then empty. */
  take(): Uint8Array {
    const out = new Uint8Array(this.length);
    out.set(this.bytes.subarray(0, this.length));
    this.length = 0;
    return out;
  }

  /** The bytes held, as a view valid until the next append. */
  view(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}

/** Held-out lines on local disk between the passes (kept off the heap, whatever their number). */
class HoldoutSpill {
  private readonly dir = mkdtempSync(join(tmpdir(), 'relearn-holdout-'));
  private readonly file = join(this.dir, 'holdout.jsonl');
  private fd: number | null = openSync(this.file, 'w');
  private readonly pending = new LineBuffer();

  write(line: string): void {
    if (this.pending.append(line) > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    writeSync(this.fd, this.pending.view());
    this.pending.clear();
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  async *lines(): AsyncGenerator<string> {
    this.close();
    const reader = createInterface({ input: createReadStream(this.file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of reader) if (line.length > 0) yield line;
  }

  remove(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The newest `size` items pushed; `push` says whether it pushed the oldest out. */
class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(private readonly size: number) {
    if (!(size > 0)) throw new RangeError(`a ring of ${size} items`);
  }

  push(item: T): boolean {
    if (this.items.length < this.size) {
      this.items.push(item);
      return false;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.size;
    return true;
  }

  *drain(): Generator<T> {
    for (let i = 0; i < this.items.length; i++) yield this.items[(this.start + i) % this.items.length]!;
  }
}

/** A set of non-negative integer ids, a bit each. */
class Bitmap {
  private bits = new Uint8Array(1024);

  has(id: number): boolean {
    const byte = Math.floor(id / 8);
    return byte < this.bits.length && (this.bits[byte]! & (1 << (id & 7))) !== 0;
  }

  add(id: number): void {
    const byte = Math.floor(id / 8);
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[byte]! |= 1 << (id & 7);
  }
}

class GrowableFloats {
  private data = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
