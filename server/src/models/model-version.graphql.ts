import type { Builder } from '../graphql/builder.js';
import type { SharedRefs } from '../graphql/refs.js';
import { reportFromConfusion } from '../metrics/classification-report.js';
import { checkModel } from '../metrics/metrics.graphql.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import type { FeatureDefinition } from '../tasks/task-definition.js';
import type { Task } from '../tasks/task.js';
import { MODEL_VERSION_STATUSES, type IModelActivation, type PromotionEvaluation } from './model-version.entity.js';
import { AppError } from '../shared/app-error.js';
import { knownCategories } from '../tasks/known-categories.js';
import { Repeater } from 'graphql-yoga';
import type { ClassificationReport } from '../metrics/classification-report.js';
import type { IDatasetVersion } from '../training/dataset-version.entity.js';
import { trainedBelowThreshold } from '../tasks/task-quality.js';

/** A feature as published: its definition and, for a category, the values the training data has. */
type PublishedFeature = FeatureDefinition & { categories: readonly string[] | null };

/** One evaluation set of the promotion gate: both versions on the same rows. */
interface GateComparison {
  set: string;
  rows: number;
  challenger: ClassificationReport;
  champion: ClassificationReport | null;
}

/** Cost units (graphql/query-limits.ts): a resolver that reads one row. */
const READS_A_ROW = 10;
/** An aggregate over a version's feedback, de-duplicated across a request's parents. */
const BATCHED_AGGREGATE = 100;

export function registerModelSchema(builder: Builder, refs: SharedRefs) {
  const Status = builder.enumType('ModelVersionStatus', {
    values: {
      CANDIDATE: { description: 'Trained, never made live.' },
      LIVE: { description: 'Serving predictions now.' },
      RETIRED: { description: 'Was live; replaced by another version.' },
      REJECTED: { description: 'Failed the promotion gate.' },
    } satisfies Record<(typeof MODEL_VERSION_STATUSES)[number], unknown>,
  });

  const Comparison = builder.objectRef<GateComparison>('GateComparison').implement({
    description: 'Challenger and champion measured on the same rows of one evaluation set.',
    fields: (t) => ({
      set: t.exposeString('set', { description: 'holdout (rows held out of training) or recent (the latest held-out feedback)' }),
      rows: t.exposeInt('rows'),
      challengerAccuracy: t.float({ nullable: true, resolve: (c) => c.challenger.accuracy }),
      championAccuracy: t.float({ nullable: true, resolve: (c) => c.champion?.accuracy ?? null }),
      challengerF1: t.float({ nullable: true, resolve: (c) => c.challenger.f1 }),
      championF1: t.float({ nullable: true, resolve: (c) => c.champion?.f1 ?? null }),
    }),
  });

  const Gate = builder.objectRef<PromotionEvaluation>('PromotionGate').implement({
    description: 'What the promotion gate compared and decided.',
    fields: (t) => ({
      promoted: t.boolean({ description: 'Whether the gate let this version go live.', resolve: (e) => e.promote }),
      margin: t.exposeFloat('margin', { description: 'How much worse in accuracy the challenger may be.' }),
      championVersion: t.int({ nullable: true, resolve: (e) => e.champion?.version ?? null }),
      summary: t.exposeString('summary'),
      comparisons: t.field({
        type: [Comparison],
        resolve: (e) =>
          (['holdout', 'recent'] as const).map((set) => ({
            set,
            rows: e.champion?.[set].count ?? e.challenger[set].count,
            challenger: e.challenger[set],
            champion: e.champion?.[set] ?? null,
          })),
      }),
    }),
  });

  const Count = builder.objectRef<{ key: string; count: number }>('KeyedCount').implement({
    description: 'A count under a name: rows of a label, or dropped rows of a reason.',
    fields: (t) => ({ key: t.exposeString('key'), count: t.exposeInt('count') }),
  });
  const counts = (record: Record<string, number> | undefined) => Object.entries(record ?? {}).map(([key, count]) => ({ key, count }));

  const Dataset = builder.objectRef<IDatasetVersion>('DatasetSnapshot').implement({
    description: 'The dataset version a model version was trained on, from its manifest.',
    fields: (t) => ({
      version: t.exposeInt('version'),
      contentHash: t.exposeString('contentHash'),
      parentVersion: t.int({ nullable: true, description: 'The dataset version this one extends.', resolve: (d) => d.manifest.parent }),
      rowCount: t.int({ resolve: (d) => d.manifest.rowCount }),
      trainRows: t.int({ resolve: (d) => d.manifest.trainRows }),
      holdoutRows: t.int({ resolve: (d) => d.manifest.holdoutRows }),
      labelCounts: t.field({ type: [Count], resolve: (d) => counts(d.manifest.labelCounts) }),
      droppedRows: t.int({ resolve: (d) => d.manifest.droppedRows }),
      droppedByReason: t.field({ type: [Count], description: 'invalid, outlier, duplicate, window', resolve: (d) => counts(d.manifest.dropped) }),
      sources: t.stringList({ resolve: (d) => [...d.manifest.sources] }),
      feedbackFrom: t.int({ nullable: true, resolve: (d) => d.manifest.feedbackIdRange?.[0] ?? null }),
      feedbackTo: t.int({ nullable: true, resolve: (d) => d.manifest.feedbackIdRange?.[1] ?? null }),
      codeVersion: t.string({ resolve: (d) => d.manifest.codeVersion }),
      createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    }),
  });

  refs.ModelVersion.implement({
    description: 'One trained model of a task.',
    fields: (t) => ({
      version: t.exposeInt('version'),
      model: t.exposeString('model'),
      status: t.field({ type: Status, resolve: (v) => v.status }),
      createdAt: t.field({ type: 'DateTime', resolve: (v) => v.createdAt }),
      activatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (v) => v.activatedAt ?? null }),
      trainingMetrics: t.field({
        type: refs.ModelMetrics,
        nullable: true,
        description: 'Measured on the holdout when the version was trained: compare with liveMetrics.',
        resolve: (v) => {
          if (!v.trainingMetrics) return null;
          const r = reportFromConfusion(v.trainingMetrics.confusion, v.trainingMetrics.logLoss ?? null);
          return { ...r, model: v.model, predictionCount: r.count, feedbackCount: r.count, labelledPredictionCount: r.count, modelVersionId: v.id };
        },
      }),
      belowThreshold: t.boolean({
        nullable: true,
        description:
          "Whether its holdout accuracy at training time is below its task's own threshold (retrainPolicy.minAccuracy): served, but not to be relied on. Null without training metrics.",
        resolve: (v, _, { services }) => {
          const task = services.tasks.get(v.model);
          if (!task || !v.trainingMetrics) return null;
          return trainedBelowThreshold(task, reportFromConfusion(v.trainingMetrics.confusion, null).accuracy);
        },
      }),
      datasetVersion: t.int({
        nullable: true,
        description: 'The dataset version it was trained on.',
        extensions: { complexity: READS_A_ROW },
        resolve: async (v, _, { loaders }) => {
          const id = datasetIdOf(v);
          return id === null ? null : ((await loaders.datasetById.load(id))?.version ?? null);
        },
      }),
      dataset: t.field({
        type: Dataset,
        nullable: true,
        description: 'Its dataset version: rows per label, dropped rows by reason, parent, hash.',
        extensions: { complexity: READS_A_ROW },
        resolve: async (v, _, { loaders }) => {
          const id = datasetIdOf(v);
          return id === null ? null : loaders.datasetById.load(id);
        },
      }),
      datasetHash: t.string({
        nullable: true,
        extensions: { complexity: READS_A_ROW },
        resolve: async (v, _, { loaders }) => {
          const id = datasetIdOf(v);
          return id === null ? null : ((await loaders.datasetById.load(id))?.contentHash ?? null);
        },
      }),
      mlflowRunId: t.string({ nullable: true, description: 'The registry run that trained it.', resolve: (v) => v.registryRunId ?? null }),
      mlflowUrl: t.string({
        nullable: true,
        description: 'The run in the MLflow UI (null with the embedded registry).',
        resolve: (v) => v.registryRunUrl ?? null,
      }),
      registryVersion: t.string({ nullable: true, resolve: (v) => v.registryVersion ?? null }),
      evaluation: t.string({
        nullable: true,
        description: "The promotion gate's verdict with the numbers behind it.",
        resolve: (v) => v.evaluation?.summary ?? null,
      }),
      gate: t.field({
        type: Gate,
        nullable: true,
        description: "The promotion gate's numbers: this version and the champion it was judged against, on the same rows.",
        resolve: (v) => v.evaluation ?? null,
      }),
      promotedBy: t.string({
        nullable: true,
        description: 'Who or what last made this version live.',
        extensions: { complexity: READS_A_ROW },
        resolve: async (v, _, { loaders }) => (await loaders.lastActivation.load({ model: v.model, version: v.version }))?.actor ?? null,
      }),
      promotionReason: t.string({
        nullable: true,
        extensions: { complexity: READS_A_ROW },
        resolve: async (v, _, { loaders }) => (await loaders.lastActivation.load({ model: v.model, version: v.version }))?.reason ?? null,
      }),
      liveMetrics: t.field({
        type: refs.ModelMetrics,
        description: 'Measured on feedback to the predictions this version served since it went live.',
        // An aggregate, but one per version per request however many parents ask (the loader).
        extensions: { complexity: BATCHED_AGGREGATE },
        resolve: (v, _, { loaders }) => loaders.metrics.load({ model: v.model, window: {}, versionId: v.id }),
      }),
    }),
  });

  const Feature = builder.objectRef<PublishedFeature>('Feature').implement({
    description: 'One input of a task, with its valid range.',
    fields: (t) => ({
      name: t.exposeString('name'),
      type: t.string({ resolve: (f) => f.type, description: 'float, int, category or text' }),
      description: t.string({ nullable: true, resolve: (f) => f.description ?? null }),
      min: t.float({ nullable: true, resolve: (f) => ('min' in f ? f.min : null) }),
      max: t.float({ nullable: true, resolve: (f) => ('max' in f ? f.max : null) }),
      exclusiveMin: t.boolean({ resolve: (f) => ('exclusiveMin' in f ? f.exclusiveMin : false) }),
      maxLength: t.int({ nullable: true, resolve: (f) => ('maxLength' in f ? f.maxLength : null) }),
      categories: t.stringList({
        nullable: true,
        description: 'A category feature: the values its training data has (null: not known, or not a category).',
        resolve: (f) => (f.categories ? [...f.categories] : null),
      }),
    }),
  });

  const RetrainPolicy = builder.objectRef<Task['definition']['retrain']>('RetrainPolicy').implement({
    description: "When the task retrains by itself (the task definition's retrain section).",
    fields: (t) => ({
      afterFeedback: t.exposeInt('afterFeedback', { description: 'Retrain after this many new labelled feedback since the live version was trained.' }),
      minAccuracy: t.exposeFloat('minAccuracy', { description: 'Retrain when live accuracy over the window is below this (and its upper 95% bound too).' }),
      window: t.exposeInt('window', { description: 'The last this many feedback of the live version.' }),
      minSamples: t.exposeInt('minSamples', { description: 'The accuracy trigger waits for this many feedback.' }),
      cooldownSeconds: t.exposeInt('cooldownSeconds', { description: 'Automatic triggers wait this long after the last retrain.' }),
      promotionMargin: t.exposeFloat('promotionMargin'),
    }),
  });

  const Model = builder.objectRef<Task>('Model').implement({
    description: 'A task Relearn serves: its inputs, labels and live version.',
    fields: (t) => ({
      name: t.exposeString('name'),
      description: t.string({ resolve: (task) => task.definition.description }),
      inputType: t.string({ resolve: (task) => task.definition.inputType }),
      labels: t.stringList({ resolve: (task) => [...task.labels] }),
      positiveLabel: t.exposeString('positiveLabel'),
      onlineLearning: t.boolean({ resolve: (task) => task.definition.onlineLearning }),
      experimental: t.string({
        nullable: true,
        description: 'Why this task is only an example (set in its definition), or null for a task meant to be relied on.',
        resolve: (task) => task.definition.experimental ?? null,
      }),
      retrainPolicy: t.field({ type: RetrainPolicy, resolve: (task) => task.definition.retrain }),
      features: t.field({
        type: [Feature],
        resolve: (task) => {
          const known = knownCategories(task.definition);
          return task.definition.features.map((f) => ({ ...f, categories: f.type === 'category' ? (known[f.name] ?? null) : null }));
        },
      }),
      liveVersion: t.field({
        type: refs.ModelVersion,
        nullable: true,
        resolve: async (task, _, { services }) => {
          const live = services.models.getLive(task.name);
          return live ? services.models.versionById(live.versionId) : null;
        },
      }),
    }),
  });

  builder.queryField('models', (t) =>
    t.field({ type: [Model], description: 'Every task this deployment serves.', resolve: (_, __, { services }) => services.tasks.all() }),
  );

  builder.queryField('modelVersions', (t) =>
    t.field({
      type: [refs.ModelVersion],
      description: 'All versions of a model, newest first.',
      args: { model: t.arg.string({ required: true }) },
      resolve: (_, { model }, { services }) => {
        checkModel(services, model);
        return services.models.versions(model);
      },
    }),
  );

  const Activation = builder.objectRef<IModelActivation>('ModelActivation').implement({
    description: 'A version made live: when, by whom or what, and why.',
    fields: (t) => ({
      model: t.exposeString('model'),
      version: t.int({ resolve: (a) => a.modelVersion.version }),
      previousVersion: t.exposeInt('previousVersion', { nullable: true }),
      actor: t.exposeString('actor'),
      reason: t.exposeString('reason'),
      createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
    }),
  });

  builder.queryField('modelActivations', (t) =>
    t.field({
      type: [Activation],
      description: 'The history of which version was live when, newest first (READ).',
      args: { model: t.arg.string({ required: true }) },
      resolve: (_, { model }, ctx) => {
        const { services } = ctx;
        services.access.require(ctx, 'READ');
        checkModel(services, model);
        return services.models.activations(model);
      },
    }),
  );

  builder.subscriptionField('modelActivated', (t) =>
    t.field({
      type: Activation,
      description: 'Each time a version of the model becomes live (promotion, rollback, roll forward): the activation record.',
      args: { model: t.arg.string({ required: true }) },
      subscribe: (_, { model }, { services }) => {
        checkModel(services, model);
        return new Repeater<string>(async (push, stop) => {
          const changes = services.events.subscribe('modelActivated');
          void stop.then(() => changes.return?.());
          for await (const changed of changes) if (changed.model === model) await push(model);
        });
      },
      resolve: async (model, _, { services }) => {
        const [latest] = await services.models.activations(model);
        if (!latest) throw new AppError('NOT_FOUND', `model ${model} has no activation yet`);
        return latest;
      },
    }),
  );

  builder.mutationField('activateModelVersion', (t) =>
    t.field({
      type: refs.ModelVersion,
      description: 'Makes a version live (rollback or manual promotion) (ADMIN).',
      args: {
        model: t.arg.string({ required: true }),
        version: t.arg.int({ required: true }),
        reason: t.arg.string({ description: 'Recorded in the activation history.' }),
      },
      resolve: (_, args, ctx) => {
        const { services } = ctx;
        const actor = services.access.require(ctx, 'ADMIN')!;
        checkModel(services, args.model);
        const reason = args.reason?.trim() || 'manual activation';
        const unstorable = reason.length > 1000 ? 'must be at most 1000 characters' : unstorableTextReason(reason);
        if (unstorable) throw AppError.badInput([{ field: 'reason', reason: unstorable }]);
        return services.models.activate(args.model, args.version, actor.name, reason);
      },
    }),
  );
}

function datasetIdOf(v: { datasetVersion?: unknown }): number | null {
  const ref = v.datasetVersion as { id?: number } | number | null | undefined;
  if (ref === null || ref === undefined) return null;
  return typeof ref === 'number' ? ref : (ref.id ?? null);
}
