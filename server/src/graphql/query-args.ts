// Arguments several queries share (time-bucketed history, a version, a window), declared and checked once.
import type { IModelVersion } from '../models/model-version.entity.js';
import { AppError } from '../shared/app-error.js';
import type { Builder } from './builder.js';
import type { Services } from './services.js';

/** Bucket sizes a history query picks from when none is asked for: 1 min, 5 min, 15 min, 1 h, 6 h, 1 day, 1 week. */
const BUCKET_STEPS = [60, 300, 900, 3600, 21_600, 86_400, 604_800];

/** The arguments of a time-bucketed history query (metricsHistory, driftHistory), in the order the schema prints them. */
export function historyRangeArgs(builder: Builder, versionDescription: string) {
  return builder.args((t) => ({
    model: t.string({ required: true }),
    from: t.field({ type: 'DateTime', required: true }),
    to: t.field({ type: 'DateTime', required: true }),
    bucketSeconds: t.int(),
    version: t.int({ description: versionDescription }),
  }));
}

export interface HistoryLimits {
  maxBuckets: number;
  maxDays: number;
}

/**
 * [from, to) cut into buckets: bucketSeconds as asked, else the smallest step giving at most 100
 * buckets. A span that is empty, too long or cut too finely is refused, naming the argument.
 */
export function historyRange(
  args: { from: Date; to: Date; bucketSeconds?: number | null },
  { maxBuckets, maxDays }: HistoryLimits,
): { from: Date; to: Date; bucketSeconds: number } {
  const from = new Date(args.from);
  const to = new Date(args.to);
  const spanSeconds = (to.getTime() - from.getTime()) / 1000;
  if (!(spanSeconds > 0)) throw AppError.badInput([{ field: 'to', reason: 'must be after from' }]);
  if (spanSeconds > maxDays * 86_400) throw AppError.badInput([{ field: 'to', reason: `at most ${maxDays} days after from` }]);
  const bucketSeconds = args.bucketSeconds ?? BUCKET_STEPS.find((step) => spanSeconds / step <= 100) ?? Math.ceil(spanSeconds / 100);
  if (bucketSeconds < 1) throw AppError.badInput([{ field: 'bucketSeconds', reason: 'must be at least 1' }]);
  if (spanSeconds / bucketSeconds > maxBuckets) {
    throw AppError.badInput([{ field: 'bucketSeconds', reason: `gives more than ${maxBuckets} buckets; use at least ${Math.ceil(spanSeconds / maxBuckets)}` }]);
  }
  return { from, to, bucketSeconds };
}

/** The version a query's `version` argument names: null when it names none, BAD_USER_INPUT when the model has no such version. */
export async function requestedVersion(services: Services, model: string, version: number | null | undefined): Promise<IModelVersion | null> {
  if (version === null || version === undefined) return null;
  const v = await services.models.version(model, version);
  if (!v) throw AppError.badInput([{ field: 'version', reason: `model ${model} has no version ${version}` }]);
  return v;
}

/** A metrics or drift window (lastFeedback, lastSeconds): each count between 1 and 100,000,000. */
export function checkWindow(window: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(window)) {
    if (typeof value === 'number' && (value < 1 || value > 100_000_000)) {
      throw AppError.badInput([{ field: `window.${field}`, reason: 'must be between 1 and 100000000' }]);
    }
  }
}
