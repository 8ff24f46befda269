// The shapes the dashboard works with: the generated result types of its documents
// (generated/graphql.ts, from schema/schema.graphql), under the names the components use.
import type {
  DashboardActivationFieldsFragment,
  DashboardAlertFieldsFragment,
  DashboardJobFieldsFragment,
  DashboardMetricsQuery,
  DashboardModelsQuery,
  DashboardPredictMutation,
  DashboardVersionFieldsFragment,
  RetrainState as GeneratedRetrainState,
} from './generated/graphql.js';

export type FeatureType = 'float' | 'int' | 'category' | 'text';

export type ModelInfo = DashboardModelsQuery['models'][number];
/** A feature as the form needs it (tests build them by hand, without `categories`). */
export type Feature = Omit<ModelInfo['features'][number], 'categories'> & { categories?: string[] | null };
export type RetrainPolicy = ModelInfo['retrainPolicy'];
export type Metrics = DashboardMetricsQuery['metrics'];
export type Confusion = Metrics['confusion'];
export type Interval = NonNullable<Metrics['accuracyInterval']>;
export type ModelVersion = DashboardVersionFieldsFragment;
export type PromotionGate = NonNullable<ModelVersion['gate']>;
export type GateComparison = PromotionGate['comparisons'][number];
export type Prediction = DashboardPredictMutation['predict'];
export type RetrainState = GeneratedRetrainState;
export type RetrainJob = DashboardJobFieldsFragment;
export type Alert = DashboardAlertFieldsFragment;
export type ModelActivation = DashboardActivationFieldsFragment;
