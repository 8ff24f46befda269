import type { DatasetStore } from './dataset-store.js';
import { parseDatasetJsonl } from './train.js';

/** Dataset versions whose feedback ids are kept in memory (a live model's and a past one or two). */
const CACHED_DATASETS = 4;

/**
 * Which feedback rows a dataset version holds. A version's training data covers feedback up to
 * its snapshot, but the dataset may have dropped some of those rows (duplicates, outliers, the
 * window); a retraction must take back only rows the model was trained on. Read from the dataset
 * itself when a retraction first needs it, and kept for a few datasets.
 */
export class TrainingMembership {
  private readonly cache = new Map<number, Promise<ReadonlySet<number>>>();

  constructor(private readonly datasets: Pick<DatasetStore, 'byId' | 'rows'>) {}

  feedbackIds(datasetVersionId: number): Promise<ReadonlySet<number>> {
    const cached = this.cache.get(datasetVersionId);
    if (cached) return cached;
    const read = (async () => {
      const dataset = await this.datasets.byId(datasetVersionId);
      if (!dataset) return new Set<number>();
      const rows = parseDatasetJsonl((await this.datasets.rows(dataset)).toString('utf8'));
      return new Set(rows.flatMap((r) => (r.feedbackId === undefined ? [] : [r.feedbackId])));
    })();
    this.cache.set(datasetVersionId, read);
    read.catch(() => this.cache.delete(datasetVersionId));
    while (this.cache.size > CACHED_DATASETS) this.cache.delete(this.cache.keys().next().value!);
    return read;
  }
}
