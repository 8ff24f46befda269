import type { Builder } from '../graphql/builder.js';
import type { SharedRefs } from '../graphql/refs.js';
import { reportFromConfusion } from '../metrics/classification-report.js';
import { checkModel } from '../metrics/metrics.graphql.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import type { FeatureDefinition } from '../tasks/task-definition.js';
import type { Task } from '../tasks/task.js';
import { MODEL_VERSION_STATUSES, type IModelActivation } from './model-version.entity.js';
import { AppError } from '../shared/app-error.js';

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
      datasetVersion: t.int({
        nullable: true,
        description: 'The dataset version it was trained on.',
        extensions: { complexity: READS_A_ROW },
        resolve: async (v, _, { loaders }) => {
          const id = datasetIdOf(v);
          return id === null ? null : ((await loaders.datasetById.load(id))?.version ?? null);
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

  const Feature = builder.objectRef<FeatureDefinition>('Feature').implement({
    description: 'One input of a task, with its valid range.',
    fields: (t) => ({
      name: t.exposeString('name'),
      type: t.string({ resolve: (f) => f.type, description: 'float, int, category or text' }),
      description: t.string({ nullable: true, resolve: (f) => f.description ?? null }),
      min: t.float({ nullable: true, resolve: (f) => ('min' in f ? f.min : null) }),
      max: t.float({ nullable: true, resolve: (f) => ('max' in f ? f.max : null) }),
      exclusiveMin: t.boolean({ resolve: (f) => ('exclusiveMin' in f ? f.exclusiveMin : false) }),
      maxLength: t.int({ nullable: true, resolve: (f) => ('maxLength' in f ? f.maxLength : null) }),
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
      features: t.field({ type: [Feature], resolve: (task) => task.definition.features }),
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
