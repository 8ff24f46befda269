import type { Builder } from '../graphql/builder.js';
import type { Context } from '../graphql/context.js';
import { ANONYMOUS_SOURCE } from '../feedback/feedback.types.js';
import type { SharedRefs } from '../graphql/refs.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { AppError } from '../shared/app-error.js';

const MAX_BATCH = 1000;

/** Who asks for a prediction, as feedback names its source: the principal's name, or 'anonymous'. */
const sourceOf = (ctx: Pick<Context, 'principal'>): string => ctx.principal?.name ?? ANONYMOUS_SOURCE;

export function registerPredictionSchema(builder: Builder, tasks: TaskRegistry, refs: SharedRefs) {
  const ClassScore = builder.objectRef<{ label: string; probability: number }>('ClassScore').implement({
    description: 'The probability the model gives one label.',
    fields: (t) => ({ label: t.exposeString('label'), probability: t.exposeFloat('probability') }),
  });

  refs.Prediction.implement({
    description: 'A served prediction. It is stored before it is returned, so feedback can always refer to it.',
    fields: (t) => ({
      id: t.exposeID('id'),
      model: t.exposeString('model'),
      label: t.exposeString('label', { description: 'The most probable label.' }),
      probability: t.exposeFloat('probability', { description: 'Probability of `label`.' }),
      scores: t.field({ type: [ClassScore], resolve: (p) => p.scores, description: 'Every label with its probability.' }),
      modelVersion: t.field({
        type: refs.ModelVersion,
        description: 'The version that served this prediction.',
        resolve: async (p, _, { services }) => (await services.models.versionById(p.modelVersionId))!,
      }),
      input: t.field({ type: 'JSON', resolve: (p) => p.input }),
      latencyMs: t.exposeFloat('latencyMs', { description: 'Time the model took to score the input.' }),
      createdAt: t.field({ type: 'DateTime', resolve: (p) => p.createdAt }),
      source: t.string({
        nullable: true,
        description: "Who asked for it: the API key's principal, or 'anonymous' (null: stored before sources were recorded).",
        resolve: (p) => p.source ?? null,
      }),
    }),
  });

  // One input object per task, generated from its declared features.
  const taskInputs = tasks.all().map((task) => {
    const ref = builder.inputType(task.definition.inputType, {
      description: task.definition.description,
      fields: (t) =>
        Object.fromEntries(
          task.definition.features.map((f) => {
            const description =
              'maxLength' in f
                ? `${f.description ?? f.name} (at most ${f.maxLength} characters)`
                : `${f.description ?? f.name} (${f.exclusiveMin ? '>' : '>='} ${f.min}, <= ${f.max})`;
            const options = { required: true, description } as const;
            if (f.type === 'float') return [f.name, t.float(options)];
            if (f.type === 'int') return [f.name, t.int(options)];
            return [f.name, t.string(options)];
          }),
        ),
    });
    return [task.name, ref] as const;
  });

  const PredictInput = builder.inputType('PredictInput', {
    description: 'Exactly one member: the task to ask and its input.',
    isOneOf: true,
    fields: (t) => Object.fromEntries(taskInputs.map(([name, ref]) => [name, t.field({ type: ref })])),
  });

  /** `@oneOf` guarantees exactly one member; this picks it. */
  const taskOf = (input: Record<string, unknown>) => {
    const [model, value] = Object.entries(input).find(([, v]) => v !== undefined && v !== null)!;
    return { model, input: value };
  };

  builder.mutationField('predict', (t) =>
    t.field({
      type: refs.Prediction,
      description: 'Scores one input with the live model of its task and stores the prediction.',
      args: { input: t.arg({ type: PredictInput, required: true }) },
      resolve: async (_, { input }, ctx) => {
        await ctx.services.access.admit(ctx, 'PREDICT', 'predictions');
        const { model, input: value } = taskOf(input as Record<string, unknown>);
        return ctx.services.predictions.predict(model, value, sourceOf(ctx));
      },
    }),
  );

  builder.mutationField('predictBatch', (t) =>
    t.field({
      type: [refs.Prediction],
      description: `Scores up to ${MAX_BATCH} inputs (of any tasks) in one call; all are stored before the answer.`,
      args: { inputs: t.arg({ type: [PredictInput], required: true }) },
      resolve: async (_, { inputs }, ctx) => {
        if (inputs.length === 0 || inputs.length > MAX_BATCH) {
          throw AppError.badInput([{ field: 'inputs', reason: `must hold 1 to ${MAX_BATCH} inputs` }]);
        }
        await ctx.services.access.admit(ctx, 'PREDICT', 'predictions', inputs.length);
        return ctx.services.predictions.predictBatch(
          inputs.map((i) => taskOf(i as Record<string, unknown>)),
          sourceOf(ctx),
        );
      },
    }),
  );

  builder.queryField('prediction', (t) =>
    t.field({
      type: refs.Prediction,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }, { services }) => services.predictions.get(String(id)),
    }),
  );
}
