import type { Builder } from '../graphql/builder.js';
import type { SharedRefs } from '../graphql/refs.js';
import type { FeatureContribution, PredictionExplanation, TokenContribution } from './explanation.js';
import type { ListedPrediction } from './prediction-list.repository.js';
import type { PredictionPage } from './prediction-list.js';

/** The list of recent predictions (`predictions`), the feedback on each, and why each was predicted (`explanation`). */
export function registerPredictionListSchema(builder: Builder, refs: SharedRefs) {
  const PredictionFilter = builder.inputType('PredictionFilter', {
    description: 'Narrows the list; every field given narrows further.',
    fields: (t) => ({
      wrong: t.boolean({
        description: 'true: its feedback disagrees with the prediction; false: its feedback agrees (retracted feedback counts for neither).',
      }),
      predictedLabel: t.string({ description: 'Predicted this label.' }),
      actualLabel: t.string({ description: 'Its feedback says this label.' }),
      source: t.string({ description: "Its feedback came from this source (a principal's name, or 'anonymous')." }),
      unlabelled: t.boolean({ description: 'true: no feedback yet (feedback can still be given); false: some feedback.' }),
      feedbackRequested: t.boolean({ description: 'Served with feedbackRequested (the audit sample), or not.' }),
      version: t.int({ description: 'Served by this version.' }),
    }),
  });

  const Page = builder.objectRef<PredictionPage>('PredictionPage').implement({
    description: 'One page of predictions, newest first.',
    fields: (t) => ({
      items: t.field({ type: [refs.Prediction], resolve: (p) => p.items }),
      hasMore: t.exposeBoolean('hasMore', { description: 'Older predictions match too.' }),
      endCursor: t.exposeID('endCursor', { nullable: true, description: 'Pass as `after` for the next page (null on the last).' }),
    }),
  });

  builder.queryField('predictions', (t) =>
    t.field({
      type: Page,
      description:
        'Recent predictions of a task, newest first, filtered, in pages (keyset on createdAt and id: a page stays right while new predictions arrive). Needs READ.',
      args: {
        model: t.arg.string({ required: true }),
        filter: t.arg({ type: PredictionFilter }),
        first: t.arg.int({ description: 'Page size (default 50, at most PREDICTION_PAGE_MAX).' }),
        after: t.arg.id({ description: 'The endCursor of the previous page.' }),
      },
      resolve: (_, args, ctx) => {
        ctx.services.access.require(ctx, 'READ');
        return ctx.services.predictionList.page(args.model, args.filter ?? {}, args.first ?? null, args.after == null ? null : String(args.after));
      },
    }),
  );

  builder.objectField(refs.Prediction, 'feedback', (t) =>
    t.field({
      type: refs.Feedback,
      nullable: true,
      description: 'The feedback given on it (null: none yet).',
      resolve: (p, _, { services }) => ('feedback' in p ? (p as ListedPrediction).feedback : services.predictionList.feedbackOn(p.id)),
    }),
  );

  const Token = builder.objectRef<TokenContribution>('TokenContribution').implement({
    fields: (t) => ({
      token: t.exposeString('token'),
      count: t.exposeFloat('count', { description: 'How often it occurs in the text (as the task counts terms).' }),
      contribution: t.exposeFloat('contribution', { description: 'Its log-likelihood ratio, label : runner-up (positive: evidence for the label).' }),
    }),
  });

  const Contribution = builder.objectRef<FeatureContribution>('FeatureContribution').implement({
    description: "One feature's share of the log probability ratio between the predicted label and the runner-up.",
    fields: (t) => ({
      feature: t.exposeString('feature'),
      kind: t.exposeString('kind', { description: 'number, category or text.' }),
      value: t.field({ type: 'JSON', nullable: true, description: 'The input value (null for text).', resolve: (c) => c.value }),
      contribution: t.exposeFloat('contribution', {
        description: 'log P(feature | label) − log P(feature | runner-up): positive pushed towards the label, negative towards the runner-up.',
      }),
      tokens: t.field({ type: [Token], description: 'Text: the tokens of largest |contribution|, largest first.', resolve: (c) => c.tokens }),
      otherTokenCount: t.int({ description: 'Text: known tokens not listed.', resolve: (c) => c.otherTokens.count }),
      otherTokensContribution: t.float({ description: 'Text: their summed contribution.', resolve: (c) => c.otherTokens.contribution }),
      unknownTokenCount: t.exposeInt('unknownTokens', { description: 'Text: distinct tokens never seen in training (they count for nothing).' }),
    }),
  });

  const Basis = builder.enumType('ExplanationBasis', {
    description:
      'LIVE_MODEL: the serving version is live here, explained with its current statistics (it may have learned since). VERSION_ARTIFACT: the version as trained. AS_SERVED: the version rebuilt as it was when it served (exact: true).',
    values: ['LIVE_MODEL', 'VERSION_ARTIFACT', 'AS_SERVED'] as const,
  });

  const Explanation = builder.objectRef<PredictionExplanation>('PredictionExplanation').implement({
    description:
      'Why the model said it: naive Bayes log-likelihood ratios between the predicted label and the runner-up, per feature (and per token). priorLogRatio + Σ contribution = logProbabilityRatio.',
    fields: (t) => ({
      label: t.exposeString('label'),
      runnerUp: t.exposeString('runnerUp', { description: 'The next most probable label.' }),
      probability: t.exposeFloat('probability', { description: "The explaining model's probability of label." }),
      runnerUpProbability: t.exposeFloat('runnerUpProbability'),
      priorLogRatio: t.exposeFloat('priorLogRatio', { description: 'log P(label) − log P(runner-up) before looking at the input.' }),
      logProbabilityRatio: t.exposeFloat('logProbabilityRatio', {
        description: 'log(probability / runnerUpProbability), natural log; finite however close to 0 or 1.',
      }),
      contributions: t.field({ type: [Contribution], description: 'Largest |contribution| first.', resolve: (e) => e.contributions }),
      basis: t.field({ type: Basis, resolve: (e) => e.basis }),
      version: t.exposeInt('version', { description: 'The version whose statistics explained it (the one that served it).' }),
    }),
  });

  builder.objectField(refs.Prediction, 'explanation', (t) =>
    t.field({
      type: Explanation,
      nullable: true,
      description: 'Why the model said it, computed with the version that served it (null for a task with one label).',
      args: {
        tokens: t.arg.int({ description: 'Text: how many tokens to list (default 10, at most EXPLANATION_MAX_TOKENS).' }),
        exact: t.arg.boolean({
          description:
            'With the serving version rebuilt as of the prediction (time travel): exactly the probabilities served, at the cost of replaying what it had learned.',
        }),
      },
      // Cost units (graphql/query-limits.ts): `exact` replays what the version had learned, so
      // one is priced like an aggregate run per field and a list of them is refused.
      extensions: { complexity: (args: Record<string, unknown>) => (args.exact === true ? 10_000 : 20) },
      resolve: (p, args, { services }) => services.explanations.explain(p, args.tokens ?? null, args.exact ?? false),
    }),
  );
}
