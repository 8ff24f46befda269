import type { Builder } from '../graphql/builder.js';
import { checkWindow, historyRange, historyRangeArgs, requestedVersion } from '../graphql/query-args.js';
import { checkModel, type registerMetricsSchema } from '../metrics/metrics.graphql.js';
import { AppError } from '../shared/app-error.js';
import type { DriftBin as DriftBinShape, FeatureDrift as FeatureDriftShape } from './drift-report.js';
import { DEFAULT_DRIFT_WINDOW, MAX_DRIFT_WINDOW, type DriftBucket as DriftBucketShape, type ModelDriftReport } from './drift-service.js';

/** driftHistory reads up to DRIFT_HISTORY_SAMPLE predictions per bucket: fewer buckets than metricsHistory. */
const MAX_DRIFT_HISTORY_BUCKETS = 200;
const MAX_DRIFT_HISTORY_DAYS = 400;

type WindowRef = ReturnType<typeof registerMetricsSchema>['MetricsWindow'];

/** drift(model, window): the live version's recent inputs against its training data, per feature. */
export function registerDriftSchema(builder: Builder, MetricsWindow: WindowRef) {
  const DriftBin = builder.objectRef<DriftBinShape>('DriftBin').implement({
    description: 'One bin of a feature: its share of the training data and of the recent inputs.',
    fields: (t) => ({ bin: t.exposeString('bin'), training: t.exposeFloat('training'), live: t.exposeFloat('live') }),
  });
  const FeatureDrift = builder.objectRef<FeatureDriftShape>('FeatureDrift').implement({
    description: 'One feature of the recent inputs against the training data (or "predictedLabel": the predicted labels against the training labels).',
    fields: (t) => ({
      name: t.exposeString('name'),
      kind: t.exposeString('kind', { description: 'numeric, category, text or label' }),
      score: t.exposeFloat('score', {
        nullable: true,
        description: 'PSI over the training deciles (numeric; 0.1 moderate, 0.25 large), Jensen-Shannon divergence base 2 (category, text, label; 0 to 1).',
      }),
      pValue: t.exposeFloat('pValue', {
        nullable: true,
        description: 'Two-sample Kolmogorov-Smirnov (numeric) or chi-squared (category, label) p-value; null for text, whose tokens are not independent draws.',
      }),
      drifted: t.exposeBoolean('drifted', {
        description:
          'numeric: PSI >= 0.1 and KS p < 0.01 / features; category: JS >= 0.01 and chi-squared p < 0.01 / features; text: token JS over twice that of a same-size training sample, or OOV share 10 points over the training held-out share.',
      }),
      unseenShare: t.exposeFloat('unseenShare', { nullable: true, description: 'Share of category values, or of text tokens, the training data never had.' }),
      detail: t.exposeString('detail'),
      distribution: t.field({
        type: [DriftBin],
        nullable: true,
        description:
          'Shares of the window and of the training data per bin (numeric: the training deciles; category: values, unseen ones marked, at most 12), to chart; null for text.',
        resolve: (f) => f.distribution ?? null,
      }),
    }),
  });

  const DriftReport = builder.objectRef<ModelDriftReport>('DriftReport').implement({
    description: "Input drift of a model's live version: its recent predictions' inputs against the version's training data.",
    fields: (t) => ({
      model: t.exposeString('model'),
      version: t.exposeInt('version'),
      drifted: t.exposeBoolean('drifted', { description: 'Any input feature drifted (the predicted-label share is reported, not counted).' }),
      features: t.field({ type: [FeatureDrift], resolve: (r) => r.features }),
      windowSize: t.exposeInt('windowSize', { description: 'Predictions compared.' }),
      referenceSize: t.exposeInt('referenceSize', { description: 'Training rows compared with (0: the version has no dataset to compare with).' }),
    }),
  });

  builder.queryField('drift', (t) =>
    t.field({
      type: DriftReport,
      description: `Input drift of the live version. window: lastFeedback N reads the last N predictions, lastSeconds N those of the last N seconds (at most ${MAX_DRIFT_WINDOW} either way); default the last ${DEFAULT_DRIFT_WINDOW}.`,
      extensions: { complexity: 5000 },
      args: { model: t.arg.string({ required: true }), window: t.arg({ type: MetricsWindow }) },
      resolve: async (_, args, { services }) => {
        checkModel(services, args.model);
        const w = (args.window ?? {}) as { lastFeedback?: number | null; lastSeconds?: number | null };
        checkWindow(w);
        const report = await services.drift.report(args.model, { lastPredictions: w.lastFeedback, lastSeconds: w.lastSeconds });
        if (!report) throw new AppError('MODEL_NOT_READY', `model ${args.model} has no live version yet`);
        return report;
      },
    }),
  );

  const DriftBucket = builder.objectRef<DriftBucketShape>('DriftBucket').implement({
    description:
      "Input drift of one time bucket: a sample of the predictions made in it against a version's training data (the one asked for, else the one that served most of them).",
    fields: (t) => ({
      start: t.field({ type: 'DateTime', resolve: (b) => b.start }),
      end: t.field({ type: 'DateTime', resolve: (b) => b.end }),
      version: t.exposeInt('version', { nullable: true, description: 'The version whose training data the bucket is compared with.' }),
      drifted: t.exposeBoolean('drifted', { description: 'Any input feature drifted in this bucket (the predicted-label share is reported, not counted).' }),
      features: t.field({
        type: [FeatureDrift],
        description: 'Per feature, as in drift(); scores are null in a bucket without predictions.',
        resolve: (b) => b.features,
      }),
      windowSize: t.exposeInt('windowSize', { description: 'Predictions of the bucket compared (at most DRIFT_HISTORY_SAMPLE, spread over the bucket).' }),
      referenceSize: t.exposeInt('referenceSize', { description: 'Training rows compared with (0: the version has no dataset to compare with).' }),
    }),
  });

  builder.queryField('driftHistory', (t) =>
    t.field({
      type: [DriftBucket],
      description: `Input drift per time bucket of [from, to) (at most ${MAX_DRIFT_HISTORY_BUCKETS} buckets, ${MAX_DRIFT_HISTORY_DAYS} days): per bucket a sample of at most DRIFT_HISTORY_SAMPLE predictions, spread over it, per feature score, pValue and drifted. bucketSeconds defaults to the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 day, 1 week that gives at most 100 buckets.`,
      // One sampled read per bucket: 10 items × 1,000 by the cost rule.
      extensions: { complexity: 1000 },
      args: historyRangeArgs(builder, "Only this version's predictions, against its training data."),
      resolve: async (_, args, { services }) => {
        checkModel(services, args.model);
        const range = historyRange(args, { maxBuckets: MAX_DRIFT_HISTORY_BUCKETS, maxDays: MAX_DRIFT_HISTORY_DAYS });
        const versionId = (await requestedVersion(services, args.model, args.version))?.id ?? null;
        return services.drift.history(args.model, { ...range, versionId });
      },
    }),
  );
}
