import type { FeedbackRecord } from '../feedback/feedback.types.js';
import type { ModelVersionRepository } from '../models/model-version.repository.js';
import { AppError, type InputProblem } from '../shared/app-error.js';
import { isUuid } from '../shared/uuid.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { ListedPrediction, PredictionKey, PredictionListFilter, PredictionListRepository } from './prediction-list.repository.js';

/** The filter as the API takes it: a version by its number. */
export type PredictionListQueryFilter = Omit<PredictionListFilter, 'modelVersionId'> & { version?: number | null };

export interface PredictionPage {
  items: ListedPrediction[];
  /** Pass as `after` for the next page; null when this page is the last. */
  endCursor: string | null;
  hasMore: boolean;
}

/** Longest source name a feedback row can hold (feedback.source is varchar(200)). */
const MAX_SOURCE_LENGTH = 200;

/** An opaque cursor: the last row's exact created_at and id. */
export function encodeCursor(key: PredictionKey): string {
  return Buffer.from(`${key.createdAt}|${key.id}`, 'utf8').toString('base64url');
}

/** The key behind a cursor, or null when it is not one this API handed out. */
export function decodeCursor(cursor: string): PredictionKey | null {
  if (cursor.length > 200) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)\|([0-9a-f-]{36})$/i.exec(text);
  if (!m || !isUuid(m[2]!) || Number.isNaN(Date.parse(m[1]!))) return null;
  return { createdAt: m[1]!, id: m[2]! };
}

/** The recent predictions of a task, filtered and paged (the dashboard's list; SQL in prediction-list.repository.ts). */
export class PredictionList {
  constructor(
    private readonly repository: PredictionListRepository,
    private readonly versions: Pick<ModelVersionRepository, 'get'>,
    private readonly tasks: TaskRegistry,
    /** Rows one page may hold (PREDICTION_PAGE_MAX): what one request can make the server read and send. */
    readonly maxPage: number,
  ) {}

  async page(model: string, filter: PredictionListQueryFilter = {}, first: number | null = null, after: string | null = null): Promise<PredictionPage> {
    const task = this.tasks.get(model);
    if (!task) throw AppError.badInput([{ field: 'model', reason: `unknown model "${model}"; known: ${this.tasks.names().join(', ')}` }]);
    const problems: InputProblem[] = [];
    const limit = first ?? Math.min(50, this.maxPage);
    if (!Number.isInteger(limit) || limit < 1 || limit > this.maxPage) {
      problems.push({ field: 'first', reason: `must be 1 to ${this.maxPage} (PREDICTION_PAGE_MAX); got ${first}` });
    }
    const key = after === null ? null : decodeCursor(after);
    if (after !== null && key === null) problems.push({ field: 'after', reason: 'is not a cursor this API returned (endCursor of a previous page)' });
    for (const field of ['predictedLabel', 'actualLabel'] as const) {
      const label = filter[field];
      if (label != null && !task.isLabel(label)) {
        problems.push({ field: `filter.${field}`, reason: `"${label}" is not a label of ${model}; labels: ${task.labels.join(', ')}` });
      }
    }
    if (filter.source != null && (filter.source.length === 0 || filter.source.length > MAX_SOURCE_LENGTH)) {
      problems.push({ field: 'filter.source', reason: `must be 1 to ${MAX_SOURCE_LENGTH} characters` });
    }
    // Unlabelled rows have no feedback: a filter on the feedback would leave nothing, which is a mistake rather than an answer.
    if (filter.unlabelled === true) {
      for (const field of ['wrong', 'actualLabel', 'source'] as const) {
        if (filter[field] != null)
          problems.push({ field: `filter.${field}`, reason: 'cannot be combined with unlabelled: true (an unlabelled prediction has no feedback)' });
      }
    }
    let modelVersionId: number | null = null;
    if (filter.version != null) {
      const version = Number.isInteger(filter.version) && filter.version > 0 ? await this.versions.get(model, filter.version) : null;
      if (!version) problems.push({ field: 'filter.version', reason: `${model} has no version ${filter.version}` });
      else modelVersionId = version.id;
    }
    if (problems.length) throw AppError.badInput(problems);

    // One row more than asked says whether another page follows, without a count.
    const rows = await this.repository.page(model, { ...filter, modelVersionId }, limit + 1, key);
    const items = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    return { items, hasMore, endCursor: hasMore ? encodeCursor(items.at(-1)!.key) : null };
  }

  /** The feedback on a prediction (null: none yet). */
  feedbackOn(predictionId: string): Promise<FeedbackRecord | null> {
    return this.repository.feedbackOn(predictionId);
  }
}
