import type { Builder } from '../graphql/builder.js';
import type { SharedRefs } from '../graphql/refs.js';
import type { FeedbackRecord } from './feedback.types.js';

export function registerFeedbackSchema(builder: Builder, refs: SharedRefs) {
  const Feedback = builder.objectRef<FeedbackRecord>('Feedback').implement({
    description: 'Whether a prediction was right, as told by a person or a downstream system.',
    fields: (t) => ({
      id: t.id({ resolve: (f) => String(f.id) }),
      prediction: t.field({
        type: refs.Prediction,
        resolve: async (f, _, { services }) => (await services.predictions.get(f.predictionId!))!,
      }),
      actual: t.exposeString('actual'),
      correct: t.exposeBoolean('correct'),
      idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
      createdAt: t.field({ type: 'DateTime', resolve: (f) => f.createdAt }),
    }),
  });

  const FeedbackInput = builder.inputType('FeedbackInput', {
    description: 'Give exactly one of `correct` and `actual`.',
    fields: (t) => ({
      predictionId: t.id({ required: true }),
      correct: t.boolean({ description: 'Was the predicted label right?' }),
      actual: t.string({ description: 'The true label.' }),
      idempotencyKey: t.string({ description: 'Retries with the same key are recorded once.' }),
    }),
  });

  builder.mutationField('submitFeedback', (t) =>
    t.field({
      type: Feedback,
      description: 'Records the truth about a prediction. Answers after the feedback is committed; the live model learns from it at once.',
      args: { input: t.arg({ type: FeedbackInput, required: true }) },
      resolve: (_, { input }, { services }) => services.feedback.recordFeedback({ ...input, predictionId: String(input.predictionId) }),
    }),
  );

  const OutcomeInput = builder.inputType('OutcomeInput', {
    fields: (t) => ({
      predicted: t.string({ required: true }),
      actual: t.string({ required: true }),
      idempotencyKey: t.string(),
    }),
  });

  const RecordOutcomesResult = builder.objectRef<{ model: string; recorded: FeedbackRecord[] }>('RecordOutcomesResult').implement({
    fields: (t) => ({
      count: t.int({ resolve: (r) => r.recorded.length, description: 'Outcomes recorded (retries included once).' }),
      metrics: t.field({ type: refs.ModelMetrics, resolve: (r, _, { services }) => services.metrics.compute(r.model) }),
    }),
  });

  builder.mutationField('recordOutcomes', (t) =>
    t.field({
      type: RecordOutcomesResult,
      description: 'Outcomes of predictions made elsewhere: they count in the live metrics.',
      args: {
        model: t.arg.string({ required: true }),
        outcomes: t.arg({ type: [OutcomeInput], required: true }),
        version: t.arg.int({ description: 'The version that made these predictions, if known.' }),
      },
      resolve: async (_, args, { services }) => ({
        model: args.model,
        recorded: await services.feedback.recordOutcomes(args.model, args.outcomes, args.version),
      }),
    }),
  );
}
