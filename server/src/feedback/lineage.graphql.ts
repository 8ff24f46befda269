import type { Builder } from '../graphql/builder.js';
import type { SharedRefs } from '../graphql/refs.js';
import type { PastModel, PredictionLineage } from './model-history.js';

/** Time travel (`modelAt`) and lineage (`Prediction.lineage`): see model-history.ts. */
export function registerLineageSchema(builder: Builder, refs: SharedRefs) {
  const PastScore = builder.objectRef<{ label: string; probability: number }>('PastScore').implement({
    fields: (t) => ({ label: t.exposeString('label'), probability: t.exposeFloat('probability') }),
  });

  const PastModelRef = builder.objectRef<PastModel>('PastModel').implement({
    description: 'A version as it was after the feedback up to `asOf`: its artifact, the online updates that taught by then, minus what was retracted by then.',
    fields: (t) => ({
      version: t.int({ resolve: (m) => m.version.version }),
      asOf: t.field({ type: 'DateTime', resolve: (m) => m.asOf }),
      learnedFeedbackCount: t.exposeInt('learned', { description: 'Feedback it had learned online by then (and not unlearned).' }),
      unlearnedFeedbackCount: t.exposeInt('unlearned', { description: 'Rows of its training data retracted by then.' }),
      classCounts: t.field({ type: 'JSON', resolve: (m) => m.model.classCounts() }),
      predict: t.field({
        type: [PastScore],
        description: 'Its probabilities for an input (the task\'s input object, e.g. { text: "…" }).',
        args: { input: t.arg({ type: 'JSON', required: true }) },
        resolve: (m, args) => m.model.predict(m.task.encode(m.task.validate(args.input))).scores,
      }),
    }),
  });

  builder.queryField('modelAt', (t) =>
    t.field({
      type: PastModelRef,
      description: 'Rebuilds version `version` of `model` as it was at `asOf` (time travel).',
      args: {
        model: t.arg.string({ required: true }),
        version: t.arg.int({ required: true }),
        asOf: t.arg({ type: 'DateTime', required: true }),
      },
      resolve: (_, args, { services }) => services.history.modelAt(args.model, args.version, args.asOf),
    }),
  );

  const Replay = builder
    .objectRef<{ scores: { label: string; probability: number }[]; served: { label: string; probability: number }[] }>('PredictionReplay')
    .implement({
      description: 'The serving model rebuilt as of the prediction, scoring its input again.',
      fields: (t) => ({
        scores: t.field({ type: [PastScore], resolve: (r) => r.scores }),
        maxDifference: t.float({
          description: 'Largest difference from the probabilities served then.',
          resolve: (r) => Math.max(0, ...r.scores.map((s) => Math.abs(s.probability - (r.served.find((x) => x.label === s.label)?.probability ?? 0)))),
        }),
      }),
    });

  const Lineage = builder.objectRef<PredictionLineage>('PredictionLineage').implement({
    description: 'Where a prediction came from, and what came of it.',
    fields: (t) => ({
      version: t.int({ description: 'The version that served it.', resolve: (l) => l.version.version }),
      datasetVersion: t.int({ nullable: true, description: 'The dataset version that version was trained on.', resolve: (l) => l.version.datasetVersion }),
      trainedThroughFeedbackId: t.int({ resolve: (l) => l.version.trainedThroughFeedbackId }),
      learnedFeedbackCount: t.int({ description: 'Online updates the version had learned when it served.', resolve: (l) => l.learnedOnline.count }),
      learnedFeedbackFromId: t.id({ nullable: true, resolve: (l) => (l.learnedOnline.fromId === null ? null : String(l.learnedOnline.fromId)) }),
      learnedFeedbackToId: t.id({ nullable: true, resolve: (l) => (l.learnedOnline.toId === null ? null : String(l.learnedOnline.toId)) }),
      feedbackId: t.id({ nullable: true, description: 'The feedback given on it, if any.', resolve: (l) => (l.feedback ? String(l.feedback.id) : null) }),
      taughtAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When that feedback began to teach the model (null: it did not, e.g. quarantined).',
        resolve: (l) => (l.feedback && !l.feedback.quarantined ? l.feedback.learnedAt : null),
      }),
      retractedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When that feedback was retracted.',
        resolve: (l) => l.feedback?.retractedAt ?? null,
      }),
      replay: t.field({
        type: Replay,
        resolve: async (l, _, { services }) => ({ ...(await services.history.replay(l.prediction)), served: l.prediction.scores }),
      }),
    }),
  });

  builder.objectField(refs.Prediction, 'lineage', (t) =>
    t.field({
      type: Lineage,
      description: 'Which version served it, its dataset, the online updates it had learned then, and the feedback it received.',
      resolve: (p, _, { services }) => services.history.lineage(p),
    }),
  );
}
