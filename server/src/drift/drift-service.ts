import type { ModelService } from '../models/model-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { DatasetStore } from '../training/dataset-store.js';
import { MAX_REFERENCE_VALUES, buildReference, driftReport, type DriftReport, type DriftRow, type ReferenceProfile } from './drift-report.js';
import type { DriftRepository } from './drift.repository.js';

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

/**
 * Input drift of a model's live version: its recent predictions' inputs against the training
 * data of that version (its dataset version's rows, thinned to MAX_REFERENCE_VALUES and
 * summarised once per version, in memory).
 */
export class DriftService {
  private readonly references = new Map<number, Promise<ReferenceProfile | null>>();
  private readonly ready = new Set<number>();

  constructor(
    private readonly repository: DriftRepository,
    private readonly models: ModelService,
    private readonly datasets: DatasetStore,
    private readonly tasks: TaskRegistry,
  ) {}

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
