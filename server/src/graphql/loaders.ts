import DataLoader from 'dataloader';
import pLimit, { type LimitFunction } from 'p-limit';
import type { LiveMetrics, MetricsWindow } from '../metrics/metrics-service.js';
import type { IModelActivation } from '../models/model-version.entity.js';
import type { PredictionRecord } from '../predictions/prediction.types.js';
import type { IDatasetVersion } from '../training/dataset-version.entity.js';
import type { Services } from './services.js';

/**
 * Per-request loaders: a document that asks for the same figures under many parents (1,000
 * predictions of one version, each with `modelVersion { liveMetrics }`) or many aliases with the
 * same arguments costs one query per distinct key, not one per field.
 */
export interface RequestLoaders {
  /** Live metrics of a model, optionally over a window and of one version. */
  metrics: DataLoader<{ model: string; window: MetricsWindow; versionId: number | null }, LiveMetrics, string>;
  lastActivation: DataLoader<{ model: string; version: number }, IModelActivation | null, string>;
  datasetById: DataLoader<number, IDatasetVersion | null>;
  /** Predictions by id (Feedback.prediction; submitFeedback primes it with the one it labelled). */
  prediction: DataLoader<string, PredictionRecord | null>;
}

/**
 * Metrics aggregates scan a model's feedback and predictions: at most this many run at once in
 * a process, whoever asks, so they cannot take the connection pool (or more than one of
 * PostgreSQL's cores) from predictions and feedback. Extra ones queue, in order.
 */
const METRICS_AGGREGATES_AT_ONCE = 1;

export function createLoaderFactory(services: Services): () => RequestLoaders {
  const aggregates: LimitFunction = pLimit(METRICS_AGGREGATES_AT_ONCE);
  const each =
    <K, V>(load: (key: K) => Promise<V>) =>
    (keys: readonly K[]) =>
      Promise.all(keys.map((k) => load(k).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))));
  const metrics = () =>
    new DataLoader(
      each((k: { model: string; window: MetricsWindow; versionId: number | null }) =>
        aggregates(() => services.metrics.compute(k.model, k.window, k.versionId)),
      ),
      { cacheKeyFn: (k) => JSON.stringify([k.model, k.window.lastFeedback ?? null, k.window.lastSeconds ?? null, k.versionId]) },
    );
  const lastActivation = () =>
    new DataLoader(
      each((k: { model: string; version: number }) => services.models.lastActivation(k.model, k.version)),
      { cacheKeyFn: (k) => `${k.model}\u0000${k.version}` },
    );
  const datasetById = () => new DataLoader(each((id: number) => services.datasets.byId(id)));
  // services.predictions.get batches the reads of concurrent requests itself.
  const prediction = () => new DataLoader(each((id: string) => services.predictions.get(id)));
  return () => new LazyLoaders(metrics, lastActivation, datasetById, prediction);
}

/**
 * A request's loaders, each made on first use: most requests (a predict, a feedback) use none,
 * and three DataLoaders per request were allocation the profile showed for nothing.
 */
class LazyLoaders implements RequestLoaders {
  private m: RequestLoaders['metrics'] | undefined;
  private a: RequestLoaders['lastActivation'] | undefined;
  private d: RequestLoaders['datasetById'] | undefined;
  private p: RequestLoaders['prediction'] | undefined;
  constructor(
    private readonly makeMetrics: () => RequestLoaders['metrics'],
    private readonly makeLastActivation: () => RequestLoaders['lastActivation'],
    private readonly makeDatasetById: () => RequestLoaders['datasetById'],
    private readonly makePrediction: () => RequestLoaders['prediction'],
  ) {}
  get metrics(): RequestLoaders['metrics'] {
    return (this.m ??= this.makeMetrics());
  }
  get lastActivation(): RequestLoaders['lastActivation'] {
    return (this.a ??= this.makeLastActivation());
  }
  get datasetById(): RequestLoaders['datasetById'] {
    return (this.d ??= this.makeDatasetById());
  }
  get prediction(): RequestLoaders['prediction'] {
    return (this.p ??= this.makePrediction());
  }
}
