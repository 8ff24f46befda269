import type { ModelService } from '../models/model-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { DatasetStore } from '../training/dataset-store.js';
import { MAX_REFERENCE_VALUES, buildReference, driftReport, type DriftReport, type DriftRow, type ReferenceProfile } from './drift-report.js';
import type { DriftRepository } from './drift.repository.js';
import { PromiseCache } from '../shared/promise-cache.js';

/** The window drift looks at when none is given: the newest predictions of the live version. */
export const DEFAULT_DRIFT_WINDOW = 1000;
/** The most predictions one report reads, whatever the window asks (memory a client can cause). */
export const MAX_DRIFT_WINDOW = 5000;
/** Reference profiles kept in memory (one per version recently asked about). */
const CACHED_REFERENCES = 8;

export interface ModelDriftReport extends DriftReport {
  model: string;
  version: number;
}

/** One time bucket of driftHistory: a sample of its predictions against a version's training data. */
export interface DriftBucket extends DriftReport {
  start: Date;
  end: Date;
  /** The version whose training data the bucket is compared with (null: no prediction in it and none asked for). */
  version: number | null;
}

export interface DriftOptions {
  /** Predictions sampled per driftHistory bucket at most. */
  historySample: number;
  /** How long a /metrics scrape reuses a model's drift report (seconds; 0: recomputed on every scrape). */
  scrapeCacheSeconds: number;
}

export const DEFAULT_DRIFT_OPTIONS: DriftOptions = { historySample: 200, scrapeCacheSeconds: 30 };

/** Slots a driftHistory bucket is cut into, each read from its start: the sample spreads over the bucket, not only its first minutes. */
const HISTORY_SLOTS = 10;

/**
 * Input drift of a model's live version: its recent predictions' inputs against the training
 * data of that version (its dataset version's rows, thinned to MAX_REFERENCE_VALUES and
 * summarised once per version, in memory).
 */
export class DriftService {
  private readonly references = new Map<number, Promise<ReferenceProfile | null>>();
  private readonly ready = new Set<number>();

  /** The scrape path's reports, per model and live version (a new version is reported at once). */
  private readonly scrapes: PromiseCache<string, ModelDriftReport | null>;

  constructor(
    private readonly repository: DriftRepository,
    private readonly models: ModelService,
    private readonly datasets: DatasetStore,
    private readonly tasks: TaskRegistry,
    private readonly options: DriftOptions = DEFAULT_DRIFT_OPTIONS,
  ) {
    this.scrapes = new PromiseCache(options.scrapeCacheSeconds * 1000);
  }

  /**
   * The live version's default report for a /metrics scrape: computed at most once per
   * scrapeCacheSeconds per model and version, however often Prometheus (or several) scrape, since
   * a report reads up to DEFAULT_DRIFT_WINDOW prediction inputs and tokenizes their text. Null
   * while the version's reference is still being built (that is not cached: the next scrape asks again).
   */
  scrapeReport(model: string): Promise<ModelDriftReport | null> {
    const live = this.models.getLive(model);
    if (!live) return Promise.resolve(null);
    if (!this.ready.has(live.versionId)) return this.report(model, {}, { onlyIfReady: true });
    return this.scrapes.get(`${model}\u0000${live.versionId}`, () => this.report(model));
  }

  /** Forget the scrape path's reports: the next scrape recomputes (tests, and after a bulk load). */
  refreshScrapes(): void {
    this.scrapes.clear();
  }

  /**
   * Drift per time bucket of [from, to): at most `historySample` predictions of each bucket (spread
   * over it), against the training data of `versionId` when given (and only its predictions),
   * else of the version that served most of the bucket's sample. Work per request is bounded by
   * buckets × HISTORY_SLOTS × historySample rows read, one bucket at a time.
   */
  async history(model: string, range: { from: Date; to: Date; bucketSeconds: number; versionId: number | null }): Promise<DriftBucket[]> {
    const task = this.tasks.get(model);
    if (!task) throw new Error(`unknown model ${model}`);
    const features = task.definition.features;
    // Each slot may fill the whole sample (a burst of traffic sits in one slot); the rows read are
    // then thinned evenly, so the sample follows the traffic: at most HISTORY_SLOTS × historySample read.
    const sample = this.options.historySample;
    const versionNumbers = new Map<number, number | null>();
    const versionNumber = async (id: number) => {
      if (!versionNumbers.has(id)) versionNumbers.set(id, (await this.models.versionById(id))?.version ?? null);
      return versionNumbers.get(id)!;
    };
    const out: DriftBucket[] = [];
    const count = Math.ceil((range.to.getTime() - range.from.getTime()) / (range.bucketSeconds * 1000));
    for (let i = 0; i < count; i++) {
      const start = new Date(range.from.getTime() + i * range.bucketSeconds * 1000);
      const end = new Date(Math.min(range.to.getTime(), start.getTime() + range.bucketSeconds * 1000));
      const read = await this.repository.sampleInputs(model, { from: start, to: end, slots: HISTORY_SLOTS, perSlot: sample, modelVersionId: range.versionId });
      const rows = read.length <= sample ? read : Array.from({ length: sample }, (_, k) => read[Math.floor((k * read.length) / sample)]!);
      // A bucket nobody predicted in is compared as the live version would be: its scores are null, its axis continuous.
      const referenceId = range.versionId ?? mostServed(rows.map((r) => r.versionId)) ?? this.models.getLive(model)?.versionId ?? null;
      const reference = referenceId === null ? null : await this.reference(referenceId);
      const version = referenceId === null ? null : await versionNumber(referenceId);
      if (!reference) {
        out.push({ start, end, version, drifted: false, features: [], windowSize: rows.length, referenceSize: 0 });
        continue;
      }
      out.push({ start, end, version, ...driftReport(features, reference, rows) });
    }
    return out;
  }

  /** Null when the model has no live version yet. `window.lastPredictions` defaults to DEFAULT_DRIFT_WINDOW. */
  async report(
    model: string,
    window: { lastPredictions?: number | null; lastSeconds?: number | null } = {},
    options: { onlyIfReady?: boolean } = {},
  ): Promise<ModelDriftReport | null> {
    const task = this.tasks.get(model);
    const live = this.models.getLive(model);
    if (!task || !live) return null;
    // A scrape must not wait for a reference to be built (reading and summarising a dataset): it
    // starts the build and reports drift from the next scrape on.
    if (options.onlyIfReady && !this.ready.has(live.versionId)) {
      void this.reference(live.versionId).catch(() => {});
      return null;
    }
    const reference = await this.reference(live.versionId);
    const features = task.definition.features;
    if (!reference) return { model, version: live.version, drifted: false, features: [], windowSize: 0, referenceSize: 0 };
    const limit = Math.min(MAX_DRIFT_WINDOW, window.lastPredictions ?? (window.lastSeconds ? MAX_DRIFT_WINDOW : DEFAULT_DRIFT_WINDOW));
    const rows = await this.repository.recentInputs(model, live.versionId, { limit, lastSeconds: window.lastSeconds });
    return { model, version: live.version, ...driftReport(features, reference, rows) };
  }

  private reference(versionId: number): Promise<ReferenceProfile | null> {
    let cached = this.references.get(versionId);
    if (!cached) {
      cached = this.loadReference(versionId).then((r) => {
        this.ready.add(versionId);
        return r;
      });
      // A failed read is retried on the next report, not cached.
      cached.catch(() => this.references.delete(versionId));
      this.references.set(versionId, cached);
      while (this.references.size > CACHED_REFERENCES) {
        const oldest = this.references.keys().next().value!;
        this.references.delete(oldest);
        this.ready.delete(oldest);
      }
    }
    return cached;
  }

  private async loadReference(versionId: number): Promise<ReferenceProfile | null> {
    const version = await this.models.versionById(versionId);
    const ref = version?.datasetVersion as { id?: number } | number | null | undefined;
    const datasetId = ref === null || ref === undefined ? null : typeof ref === 'number' ? ref : (ref.id ?? null);
    if (!version || datasetId === null) return null;
    const dataset = await this.datasets.byId(datasetId);
    if (!dataset) return null;
    const task = this.tasks.get(version.model);
    if (!task) return null;
    // Thin the lines before parsing: a 150 MB dataset costs a split, not 150 MB of objects.
    const lines = (await this.datasets.rows(dataset)).toString('utf8').split('\n').filter(Boolean);
    const step = Math.max(1, lines.length / MAX_REFERENCE_VALUES);
    const rows: DriftRow[] = [];
    for (let i = 0; i < lines.length && rows.length < MAX_REFERENCE_VALUES; i = Math.floor(rows.length * step)) {
      const r = JSON.parse(lines[i]!) as { input: Record<string, unknown>; label: string };
      rows.push({ input: r.input, label: r.label });
    }
    return buildReference(task.definition.features, rows);
  }
}

function mostServed(ids: readonly number[]): number | null {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  let best: number | null = null;
  for (const [id, c] of counts) if (best === null || c > counts.get(best)! || (c === counts.get(best) && id > best)) best = id;
  return best;
}
