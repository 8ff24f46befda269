import type { Builder } from '../graphql/builder.js';
import type { Context } from '../graphql/context.js';
import type { SharedRefs } from '../graphql/refs.js';
import type { SourceTrust } from '../trust/trust-gate.js';
import type { SourceSummary } from './feedback-service.js';
import { ANONYMOUS_SOURCE, type FeedbackRecord, type Teacher } from './feedback.types.js';

/** Who teaches through this request: the principal's name (its source), trusted at once when it is an admin. */
export function teacherOf(ctx: Pick<Context, 'principal' | 'admin'>): Teacher {
  return { source: ctx.principal?.name ?? ANONYMOUS_SOURCE, trusted: ctx.principal ? ctx.principal.scopes.has('ADMIN') : ctx.admin };
}

/** Who acts in an admin operation, as recorded. */
function actorOf(ctx: Pick<Context, 'principal'>): string {
  return ctx.principal?.name ?? 'admin';
}

export function registerFeedbackSchema(builder: Builder, refs: SharedRefs) {
  const QuarantineReview = builder.enumType('QuarantineReview', { values: ['RELEASED', 'REJECTED'] as const });
  const QuarantineDecision = builder.enumType('QuarantineDecision', {
    description: 'RELEASE: the feedback teaches (exactly once, in every process) and counts from now on. REJECT: it never does.',
    values: ['RELEASE', 'REJECT'] as const,
  });

  const Feedback = refs.Feedback.implement({
    description: 'Whether a prediction was right, as told by a person or a downstream system.',
    fields: (t) => ({
      id: t.id({ resolve: (f) => String(f.id) }),
      prediction: t.field({
        type: refs.Prediction,
        resolve: async (f, _, { loaders }) => (await loaders.prediction.load(f.predictionId!))!,
      }),
      actual: t.exposeString('actual'),
      correct: t.exposeBoolean('correct'),
      idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
      source: t.exposeString('source', { description: "Who taught it: the API key's principal, or 'anonymous'." }),
      endUserId: t.exposeString('endUserId', { nullable: true, description: 'The end user the caller named, if any.' }),
      quarantined: t.exposeBoolean('quarantined', {
        description: 'Held back by the trust gate: it teaches no model and counts in no headline metric or trigger, until an admin releases it.',
      }),
      quarantineReason: t.exposeString('quarantineReason', { nullable: true, description: 'Why the trust gate held it back.' }),
      review: t.field({
        type: QuarantineReview,
        nullable: true,
        resolve: (f) => (f.review === null ? null : f.review === 'released' ? 'RELEASED' : 'REJECTED'),
      }),
      retractedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When an admin retracted it (it teaches and counts nothing since).',
        resolve: (f) => f.retractedAt,
      }),
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
      endUserId: t.string({ description: 'An end user of the calling principal (recorded beside the source; trust is judged per principal).' }),
    }),
  });

  builder.mutationField('submitFeedback', (t) =>
    t.field({
      type: Feedback,
      description: 'Records the truth about a prediction. Answers after the feedback is committed; the live model learns from it at once.',
      args: { input: t.arg({ type: FeedbackInput, required: true }) },
      resolve: async (_, { input }, ctx) => {
        await ctx.services.access.admit(ctx, 'FEEDBACK', 'feedback');
        const { feedback, prediction } = await ctx.services.feedback.record({ ...input, predictionId: String(input.predictionId) }, teacherOf(ctx));
        // Feedback.prediction answers from the prediction already read, not a second lookup.
        ctx.loaders.prediction.prime(prediction.id, prediction);
        return feedback;
      },
    }),
  );

  const OutcomeInput = builder.inputType('OutcomeInput', {
    fields: (t) => ({
      predicted: t.string({ required: true }),
      actual: t.string({ required: true }),
      idempotencyKey: t.string(),
      endUserId: t.string(),
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
      resolve: async (_, args, ctx) => {
        ctx.services.access.checkOutcomeCount(args.outcomes.length);
        await ctx.services.access.admit(ctx, 'OUTCOMES', 'outcomes', args.outcomes.length);
        return { model: args.model, recorded: await ctx.services.feedback.recordOutcomes(args.model, args.outcomes, args.version, teacherOf(ctx)) };
      },
    }),
  );

  builder.queryField('quarantinedFeedback', (t) =>
    t.field({
      type: [Feedback],
      description: 'The review queue: feedback and outcomes the trust gate held back, not yet released or rejected, oldest first (admin).',
      args: { model: t.arg.string({ required: true }), first: t.arg.int({ description: 'At most this many (default and limit 1000).' }) },
      resolve: (_, args, ctx) => {
        const { services } = ctx;
        services.access.require(ctx, 'ADMIN');
        return services.feedback.quarantined(args.model, args.first ?? null);
      },
    }),
  );

  const SourceTrustRef = builder.objectRef<SourceTrust>('SourceTrust').implement({
    description: 'How far the trust gate trusts a source (README: "Trust, quarantine and unlearning").',
    fields: (t) => ({
      trusted: t.exposeBoolean('trusted', { description: 'Passes the gate at once.' }),
      configured: t.exposeBoolean('configured', { description: 'Trusted by TRUSTED_SOURCES or as an admin, not earned.' }),
      agree: t.exposeInt('agree', { description: 'Inputs it labelled as a configured-trusted source did.' }),
      disagree: t.exposeInt('disagree', { description: 'Inputs it labelled otherwise than a configured-trusted source did.' }),
      agreementLow: t.exposeFloat('agreementLow', { nullable: true, description: 'Lower end of the 95% Wilson interval of agree / (agree + disagree).' }),
    }),
  });

  const FeedbackSource = builder.objectRef<SourceSummary>('FeedbackSource').implement({
    description: "One source of a model's feedback: metrics broken down by who taught.",
    fields: (t) => ({
      source: t.exposeString('source'),
      feedbackCount: t.exposeInt('feedback', { description: 'Rows that count (not quarantined, not retracted).' }),
      quarantinedCount: t.exposeInt('quarantined', { description: 'Rows waiting in the review queue.' }),
      agreement: t.exposeFloat('agreeing', {
        nullable: true,
        description: "Share of its labels (quarantined included) that agreed with the model's prediction (its accuracy, if it is right).",
      }),
      labelledCount: t.exposeInt('labelled', { description: 'Labels `agreement` is a share of.' }),
      agreementInterval: t.field({
        type: refs.Interval,
        nullable: true,
        description: '95% interval of `agreement` (Wilson).',
        resolve: (s) => s.agreeingInterval,
      }),
      trust: t.field({ type: SourceTrustRef, resolve: (s) => s.trust }),
    }),
  });

  builder.queryField('feedbackSources', (t) =>
    t.field({
      type: [FeedbackSource],
      description: "Metrics by source: each source of a model's feedback, most active first (at most 100).",
      args: { model: t.arg.string({ required: true }) },
      resolve: (_, args, { services }) => services.feedback.sources(args.model),
    }),
  );

  builder.mutationField('reviewQuarantine', (t) =>
    t.int({
      description: 'Releases or rejects quarantined feedback by id (admin). Returns how many were decided.',
      args: { ids: t.arg.idList({ required: true }), decision: t.arg({ type: QuarantineDecision, required: true }) },
      resolve: (_, args, ctx) => {
        ctx.services.access.require(ctx, 'ADMIN');
        return ctx.services.feedback.reviewQuarantine({ ids: args.ids.map(String) }, args.decision, actorOf(ctx));
      },
    }),
  );

  builder.mutationField('reviewQuarantineBySource', (t) =>
    t.int({
      description: 'Releases or rejects every queued feedback of one source of a model (admin). Returns how many were decided.',
      args: {
        model: t.arg.string({ required: true }),
        source: t.arg.string({ required: true }),
        decision: t.arg({ type: QuarantineDecision, required: true }),
      },
      resolve: (_, args, ctx) => {
        ctx.services.access.require(ctx, 'ADMIN');
        return ctx.services.feedback.reviewQuarantine({ model: args.model, source: args.source }, args.decision, actorOf(ctx));
      },
    }),
  );

  const RetractFeedbackInput = builder.inputType('RetractFeedbackInput', {
    description: 'Which feedback to take back: ids, a source, and/or a time range (createdAt in [from, to)); several narrow each other.',
    fields: (t) => ({
      ids: t.idList(),
      source: t.string(),
      from: t.field({ type: 'DateTime' }),
      to: t.field({ type: 'DateTime' }),
      model: t.string({ description: 'Only this model’s feedback.' }),
      reason: t.string({ required: true }),
    }),
  });

  const RetractionResult = builder.objectRef<{ id: number; count: number }>('RetractionResult').implement({
    fields: (t) => ({
      id: t.id({ resolve: (r) => String(r.id), description: 'The recorded retraction.' }),
      count: t.exposeInt('count', { description: 'Feedback rows retracted (rows retracted before are not counted again).' }),
    }),
  });

  builder.mutationField('retractFeedback', (t) =>
    t.field({
      type: RetractionResult,
      description:
        'Takes feedback back (admin): every live model unlearns it exactly (its statistics decremented), metrics and triggers drop it, the next dataset leaves it out, and the retraction is recorded.',
      args: { input: t.arg({ type: RetractFeedbackInput, required: true }) },
      resolve: (_, { input }, ctx) => {
        ctx.services.access.require(ctx, 'ADMIN');
        return ctx.services.feedback.retract({ ...input, ids: input.ids?.map(String) ?? null }, actorOf(ctx));
      },
    }),
  );
}
