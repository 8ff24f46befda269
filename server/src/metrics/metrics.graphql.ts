import { Repeater } from 'graphql-yoga';
import type { Builder } from '../graphql/builder.js';
import { checkWindow, requestedVersion } from '../graphql/query-args.js';
import type { SharedRefs } from '../graphql/refs.js';
import type { Services } from '../graphql/context.js';
import { AppError } from '../shared/app-error.js';

export function registerMetricsSchema(builder: Builder, refs: SharedRefs) {
  const Confusion = builder.objectRef<{ tp: number; tn: number; fp: number; fn: number }>('Confusion').implement({
    description: "Confusion counts against the task's positive label.",
    fields: (t) => ({ tp: t.exposeInt('tp'), tn: t.exposeInt('tn'), fp: t.exposeInt('fp'), fn: t.exposeInt('fn') }),
  });

  refs.ModelMetrics.implement({
    description: 'Classification quality. A figure whose denominator is zero is null, never NaN.',
    fields: (t) => ({
      model: t.exposeString('model'),
      accuracy: t.exposeFloat('accuracy', { nullable: true }),
      precision: t.exposeFloat('precision', { nullable: true }),
      recall: t.exposeFloat('recall', { nullable: true }),
      f1: t.exposeFloat('f1', { nullable: true }),
      confusion: t.field({ type: Confusion, resolve: (m) => m.confusion }),
      predictionCount: t.exposeInt('predictionCount'),
      feedbackCount: t.exposeInt('feedbackCount'),
      feedbackShare: t.float({
        nullable: true,
        description: 'Share of the predictions counted (predictionCount) that received feedback; outcomes of predictions made elsewhere do not count.',
        resolve: (m) => (m.predictionCount > 0 ? Math.min(1, m.labelledPredictionCount / m.predictionCount) : null),
      }),
      logLoss: t.float({ nullable: true, description: 'Holdout log loss (training metrics only).', resolve: (m) => m.logLoss ?? null }),
      liveVersion: t.field({
        type: refs.ModelVersion,
        nullable: true,
        resolve: async (m, _, { services }) => {
          const live = services.models.getLive(m.model);
          return live ? services.models.versionById(live.versionId) : null;
        },
      }),
    }),
  });

  const MetricsWindow = builder.inputType('MetricsWindow', {
    description: 'Which feedback to count: the last N, or that of the last N seconds.',
    isOneOf: true,
    fields: (t) => ({ lastFeedback: t.int(), lastSeconds: t.int() }),
  });

  builder.queryField('metrics', (t) =>
    t.field({
      type: refs.ModelMetrics,
      description: 'Live metrics from feedback: lifetime by default, or over a window, optionally of one version.',
      // An aggregate over the model's feedback and predictions per field (its arguments differ
      // from alias to alias): the cost limit lets a document hold a few, not twenty.
      extensions: { complexity: 5000 },
      args: {
        model: t.arg.string({ required: true }),
        window: t.arg({ type: MetricsWindow }),
        version: t.arg.int({ description: 'Only predictions served by this version.' }),
      },
      resolve: async (_, args, { services, loaders }) => {
        checkModel(services, args.model);
        const w = args.window ?? {};
        checkWindow(w);
        const versionId = (await requestedVersion(services, args.model, args.version))?.id ?? null;
        return loaders.metrics.load({ model: args.model, window: w, versionId });
      },
    }),
  );

  builder.subscriptionField('metricsUpdated', (t) =>
    t.field({
      type: refs.ModelMetrics,
      description: 'Lifetime metrics now, then again after feedback (bursts are coalesced).',
      args: { model: t.arg.string({ required: true }) },
      subscribe: (_, { model }, { services }) => {
        checkModel(services, model);
        // The current figures first, so a new subscriber need not also query.
        return new Repeater<string>(async (push, stop) => {
          await push(model);
          const changes = services.events.subscribe('metricsChanged');
          void stop.then(() => changes.return?.());
          for await (const changed of changes) if (changed === model) await push(model);
        });
      },
      resolve: (model, _, { services }) => services.metrics.current(model),
    }),
  );

  return { MetricsWindow };
}

export function checkModel(services: Services, model: string): void {
  if (!services.tasks.get(model)) {
    throw AppError.badInput([{ field: 'model', reason: `unknown model "${model}"; known: ${services.tasks.names().join(', ')}` }]);
  }
}
