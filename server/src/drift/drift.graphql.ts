import type { Builder } from '../graphql/builder.js';
import { checkModel, type registerMetricsSchema } from '../metrics/metrics.graphql.js';
import { AppError } from '../shared/app-error.js';
import type { FeatureDrift as FeatureDriftShape } from './drift-report.js';
import { DEFAULT_DRIFT_WINDOW, MAX_DRIFT_WINDOW, type ModelDriftReport } from './drift-service.js';

type WindowRef = ReturnType<typeof registerMetricsSchema>['MetricsWindow'];

/** drift(model, window): the live version's recent inputs against its training data, per feature. */
export function registerDriftSchema(builder: Builder, MetricsWindow: WindowRef) {
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
        for (const [field, value] of Object.entries(w)) {
          if (typeof value === 'number' && (value < 1 || value > 100_000_000))
            throw AppError.badInput([{ field: `window.${field}`, reason: 'must be between 1 and 100000000' }]);
        }
        const report = await services.drift.report(args.model, { lastPredictions: w.lastFeedback, lastSeconds: w.lastSeconds });
        if (!report) throw new AppError('MODEL_NOT_READY', `model ${args.model} has no live version yet`);
        return report;
      },
    }),
  );
}
