import type { Builder } from '../graphql/builder.js';
import { historyRange, historyRangeArgs, requestedVersion } from '../graphql/query-args.js';
import type { SharedRefs } from '../graphql/refs.js';
import { confusionIntervals, type Interval as IntervalShape, type ReliabilityBin as ReliabilityBinShape } from '../ml/estimation.js';
import { AppError } from '../shared/app-error.js';
import type { HistoryMarker } from './history.repository.js';
import type { Calibration as CalibrationShape, LabelDelay as LabelDelayShape, MetricsBucket as MetricsBucketShape } from './metrics-service.js';
import { checkModel } from './metrics.graphql.js';

/**
 * The honest side of the live metrics: 95% intervals on every figure, accuracy corrected for who
 * gave feedback, the audit sample's accuracy, the estimate for predictions without labels yet,
 * and calibration quality. Added to ModelMetrics and Prediction from here (Pothos objectFields),
 * so the figures and their maths stay in one domain folder.
 */
export function registerHonestAccuracySchema(builder: Builder, refs: SharedRefs) {
  const Interval = refs.Interval.implement({
    description: 'A 95% interval: the figure is between lower and upper with 95% confidence.',
    fields: (t) => ({ lower: t.exposeFloat('lower'), upper: t.exposeFloat('upper') }),
  });

  builder.objectFields(refs.ModelMetrics, (t) => {
    const interval = (key: 'accuracy' | 'precision' | 'recall' | 'f1', description: string) =>
      t.field({ type: Interval, nullable: true, description, resolve: (m) => confusionIntervals(m.confusion)[key] });
    const honest = async (m: { honest?: () => Promise<import('./honest-accuracy.js').HonestAccuracy> }) => (m.honest ? m.honest() : null);
    return {
      accuracyInterval: interval('accuracy', 'Wilson score interval of accuracy over the counted feedback.'),
      precisionInterval: interval('precision', 'Wilson score interval of precision.'),
      recallInterval: interval('recall', 'Wilson score interval of recall.'),
      f1Interval: interval(
        'f1',
        'Interval of F1: the Wilson interval of the Jaccard index TP / (TP + FP + FN), mapped through F1 = 2J / (1 + J) (monotone, so coverage carries over).',
      ),
      labelledShare: t.float({
        nullable: true,
        description: "Share of the window's predictions (by prediction time) that have feedback.",
        resolve: async (m) => (await honest(m))?.labelledShare ?? null,
      }),
      correctedAccuracy: t.float({
        nullable: true,
        description:
          "Accuracy of all the window's predictions, not just the labelled ones: each stratum's (version, predicted label, confidence bucket) labelled accuracy weighted by its share of all predictions — i.e. each label weighted by the inverse of its stratum's labelled share. Corrects feedback that depends on what the model said; feedback that depends on whether it was right needs the audit sample (auditedAccuracy).",
        resolve: async (m) => (await honest(m))?.corrected?.value ?? null,
      }),
      correctedAccuracyInterval: t.field({
        type: Interval,
        nullable: true,
        description:
          'Normal interval of the stratified estimate (finite-population corrected); strata without labels widen it to allow 0 to 1 for their share.',
        resolve: async (m) => (await honest(m))?.corrected?.interval ?? null,
      }),
      auditedAccuracy: t.float({
        nullable: true,
        description:
          'Accuracy of the labelled predictions among those served with feedbackRequested (a random sample): unbiased whenever callers honour the requests.',
        resolve: async (m) => (await honest(m))?.audit.accuracy ?? null,
      }),
      auditedAccuracyInterval: t.field({
        type: Interval,
        nullable: true,
        description: 'Wilson score interval of auditedAccuracy.',
        resolve: async (m) => (await honest(m))?.audit.interval ?? null,
      }),
      auditRequestedCount: t.int({
        nullable: true,
        description: "The window's predictions served with feedbackRequested.",
        resolve: async (m) => (await honest(m))?.audit.requested ?? null,
      }),
      auditLabelledCount: t.int({
        nullable: true,
        description: 'How many of those have feedback (a low share means callers do not honour the requests).',
        resolve: async (m) => (await honest(m))?.audit.labelled ?? null,
      }),
      estimatedAccuracy: t.float({
        nullable: true,
        description:
          "Estimated accuracy of the window's predictions that have no feedback yet, from their confidence calibrated by histogram binning (per version, predicted label and confidence bucket) on labelled predictions — the audited ones once there are 100. Valid while confidence keeps meaning what it meant; compare with the realised accuracy as labels arrive.",
        resolve: async (m) => (await honest(m))?.estimated?.value ?? null,
      }),
      estimatedAccuracyInterval: t.field({
        type: Interval,
        nullable: true,
        description: "Normal interval: the calibration's uncertainty plus the chance in the outcomes themselves.",
        resolve: async (m) => (await honest(m))?.estimated?.interval ?? null,
      }),
      unlabelledCount: t.int({
        nullable: true,
        description: "The window's predictions without feedback (what estimatedAccuracy is about).",
        resolve: async (m) => (await honest(m))?.unlabelled ?? null,
      }),
      calibrationSource: t.string({
        nullable: true,
        description: 'What calibrated estimatedAccuracy: "audited" (the audit sample) or "labelled" (every labelled prediction).',
        resolve: async (m) => (await honest(m))?.calibrationSource ?? null,
      }),
    };
  });

  const MetricsMarker = builder.objectRef<HistoryMarker>('MetricsMarker').implement({
    description: 'Something that happened to the model: a retrain finished, a version activated, an alert received.',
    fields: (t) => ({
      kind: t.exposeString('kind', { description: 'retrain, activation or alert' }),
      at: t.field({ type: 'DateTime', resolve: (m) => m.at }),
      version: t.exposeInt('version', { nullable: true }),
      message: t.exposeString('message'),
    }),
  });

  const HistoryAxis = builder.enumType('MetricsHistoryAxis', {
    description: 'PREDICTION_TIME: each bucket holds the predictions made in it (and the feedback they have by now); FEEDBACK_TIME: the feedback given in it.',
    values: { PREDICTION_TIME: { value: 'prediction' as const }, FEEDBACK_TIME: { value: 'feedback' as const } },
  });

  const MetricsBucket = builder.objectRef<MetricsBucketShape>('MetricsBucket').implement({
    description: 'Metrics of one time bucket, with their 95% intervals, the corrected, audited and estimated accuracy, and what happened in it.',
    fields: (t) => {
      const interval = (key: 'accuracy' | 'precision' | 'recall' | 'f1') =>
        t.field({ type: Interval, nullable: true, resolve: (b) => confusionIntervals(b.confusion)[key] });
      return {
        start: t.field({ type: 'DateTime', resolve: (b) => b.start }),
        end: t.field({ type: 'DateTime', resolve: (b) => b.end }),
        predictionCount: t.exposeInt('predictionCount'),
        feedbackCount: t.exposeInt('feedbackCount'),
        accuracy: t.exposeFloat('accuracy', { nullable: true }),
        accuracyInterval: interval('accuracy'),
        precision: t.exposeFloat('precision', { nullable: true }),
        precisionInterval: interval('precision'),
        recall: t.exposeFloat('recall', { nullable: true }),
        recallInterval: interval('recall'),
        f1: t.exposeFloat('f1', { nullable: true }),
        f1Interval: interval('f1'),
        labelledShare: t.float({ nullable: true, resolve: (b) => b.honest.labelledShare }),
        correctedAccuracy: t.float({ nullable: true, resolve: (b) => b.honest.corrected?.value ?? null }),
        correctedAccuracyInterval: t.field({ type: Interval, nullable: true, resolve: (b) => b.honest.corrected?.interval ?? null }),
        auditedAccuracy: t.float({ nullable: true, resolve: (b) => b.honest.audit.accuracy }),
        auditedAccuracyInterval: t.field({ type: Interval, nullable: true, resolve: (b) => b.honest.audit.interval }),
        estimatedAccuracy: t.float({
          nullable: true,
          description: "The estimate for the bucket's predictions still without feedback: compare it with accuracy as their labels arrive.",
          resolve: (b) => b.honest.estimated?.value ?? null,
        }),
        estimatedAccuracyInterval: t.field({ type: Interval, nullable: true, resolve: (b) => b.honest.estimated?.interval ?? null }),
        unlabelledCount: t.int({ resolve: (b) => b.honest.unlabelled }),
        estimatedAccuracyThen: t.float({
          nullable: true,
          description:
            "The estimate this bucket's hours had when each closed (for its then unlabelled predictions, weighted by their count): compare it with accuracy, which their labels realise later. Null by feedback time, for one version, and for hours closed over a day before history first looked.",
          resolve: (b) => b.estimatedThen?.value ?? null,
        }),
        estimatedAccuracyThenInterval: t.field({
          type: Interval,
          nullable: true,
          description: "The hours' intervals weighted like the value (as if their errors moved together).",
          resolve: (b) => b.estimatedThen?.interval ?? null,
        }),
        estimatedThenCount: t.int({
          nullable: true,
          description: 'Unlabelled predictions estimatedAccuracyThen was about.',
          resolve: (b) => b.estimatedThen?.unlabelled ?? null,
        }),
        estimatedThenAt: t.field({
          type: 'DateTime',
          nullable: true,
          description: 'When the newest of those estimates was made.',
          resolve: (b) => b.estimatedThen?.madeAt ?? null,
        }),
        markers: t.field({ type: [MetricsMarker], resolve: (b) => b.markers }),
      };
    },
  });

  builder.queryField('metricsHistory', (t) =>
    t.field({
      type: [MetricsBucket],
      description: `Time-bucketed metrics of [from, to) from PostgreSQL (at most ${MAX_HISTORY_BUCKETS} buckets, ${MAX_HISTORY_DAYS} days). bucketSeconds defaults to the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 day, 1 week that gives at most 100 buckets.`,
      // One aggregate for the whole list, which the cost rule multiplies by 10 items: 10 × 500.
      extensions: { complexity: 500 },
      args: {
        ...historyRangeArgs(builder, 'Only predictions served by this version.'),
        by: t.arg({ type: HistoryAxis, description: 'PREDICTION_TIME (default) or FEEDBACK_TIME.' }),
      },
      resolve: async (_, args, { services }) => {
        checkModel(services, args.model);
        const range = historyRange(args, { maxBuckets: MAX_HISTORY_BUCKETS, maxDays: MAX_HISTORY_DAYS });
        const modelVersionId = (await requestedVersion(services, args.model, args.version))?.id ?? null;
        return services.metrics.history(args.model, { ...range, modelVersionId, axis: args.by ?? 'prediction' });
      },
    }),
  );

  const LabelAge = builder.objectRef<LabelDelayShape['byAge'][number]>('LabelAge').implement({
    description: 'Predictions whose age (now − prediction time) is in [minAgeSeconds, maxAgeSeconds): how many have feedback so far.',
    fields: (t) => ({
      minAgeSeconds: t.exposeInt('minAgeSeconds'),
      maxAgeSeconds: t.exposeInt('maxAgeSeconds'),
      predictions: t.exposeInt('predictions'),
      labelled: t.exposeInt('labelled'),
      labelledShare: t.exposeFloat('labelledShare', { nullable: true }),
    }),
  });

  const LabelDelay = builder.objectRef<LabelDelayShape>('LabelDelay').implement({
    description: 'How long feedback takes to arrive after the prediction, and how much of each age has it: what estimatedAccuracy covers meanwhile.',
    fields: (t) => ({
      model: t.exposeString('model'),
      labelled: t.exposeInt('labelled', { description: 'Labelled predictions measured.' }),
      meanSeconds: t.exposeFloat('meanSeconds', { nullable: true }),
      p50Seconds: t.exposeFloat('p50Seconds', { nullable: true, description: 'Half of the labels came within this many seconds of the prediction.' }),
      p90Seconds: t.exposeFloat('p90Seconds', { nullable: true }),
      p99Seconds: t.exposeFloat('p99Seconds', { nullable: true }),
      byAge: t.field({ type: [LabelAge], description: 'The last 30 days of predictions by age.', resolve: (d) => d.byAge }),
    }),
  });

  builder.queryField('labelDelay', (t) =>
    t.field({
      type: LabelDelay,
      description: 'The distribution of time from prediction to feedback, and the labelled share by prediction age (optionally of one version).',
      extensions: { complexity: 1000 },
      args: { model: t.arg.string({ required: true }), version: t.arg.int() },
      resolve: async (_, args, { services }) => {
        checkModel(services, args.model);
        const versionId = (await requestedVersion(services, args.model, args.version))?.id ?? null;
        return services.metrics.labelDelay(args.model, versionId);
      },
    }),
  );

  builder.objectField(refs.Prediction, 'feedbackRequested', (t) =>
    t.boolean({
      description:
        'In the audit sample (drawn at random, AUDIT_SAMPLE_RATE): please give feedback on this one, right or wrong, so auditedAccuracy stays unbiased.',
      resolve: (p) => p.feedbackRequested ?? false,
    }),
  );

  const ReliabilityBin = builder.objectRef<ReliabilityBinShape>('ReliabilityBin').implement({
    description: 'Labelled predictions whose confidence fell in [lower, upper): how sure the model was, and how often it was right.',
    fields: (t) => ({
      lower: t.exposeFloat('lower'),
      upper: t.exposeFloat('upper'),
      count: t.exposeInt('count'),
      meanConfidence: t.exposeFloat('meanConfidence'),
      accuracy: t.exposeFloat('accuracy'),
    }),
  });

  const Calibration = builder.objectRef<CalibrationShape>('Calibration').implement({
    description: "How well a version's confidence matches how often it is right, on its labelled predictions.",
    fields: (t) => ({
      model: t.exposeString('model'),
      version: t.exposeInt('version'),
      method: t.string({ description: 'How estimatedAccuracy calibrates: histogram binning.', resolve: () => 'histogram-binning' }),
      source: t.string({ description: '"audited" (the audit sample, once there are 100 labels) or "labelled" (every label).', resolve: (c) => c.source }),
      count: t.exposeInt('count', { description: 'Labelled predictions measured.' }),
      expectedCalibrationError: t.exposeFloat('expectedCalibrationError', {
        nullable: true,
        description: 'Sum over bins of (count / total) × |accuracy − mean confidence|; 0 is perfectly calibrated.',
      }),
      reliability: t.field({ type: [ReliabilityBin], description: 'The reliability curve, 10 equal-width bins.', resolve: (c) => c.bins }),
    }),
  });

  builder.queryField('calibration', (t) =>
    t.field({
      type: Calibration,
      description: "Calibration of a version's confidence (the live one by default): reliability curve and expected calibration error.",
      extensions: { complexity: 1000 },
      args: { model: t.arg.string({ required: true }), version: t.arg.int() },
      resolve: async (_, args, { services }) => {
        checkModel(services, args.model);
        const asked = await requestedVersion(services, args.model, args.version);
        if (asked) return services.metrics.calibration(args.model, asked.id, asked.version);
        const live = services.models.getLive(args.model);
        if (!live) throw new AppError('MODEL_NOT_READY', `model ${args.model} has no live version yet`);
        return services.metrics.calibration(args.model, live.versionId, live.version);
      },
    }),
  );
}

const MAX_HISTORY_BUCKETS = 1000;
const MAX_HISTORY_DAYS = 400;
