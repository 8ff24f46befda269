// The shapes the dashboard's documents select (a hand-written subset of schema/schema.graphql).

export type FeatureType = 'float' | 'int' | 'category' | 'text';

export interface Feature {
  name: string;
  type: FeatureType | string;
  min: number | null;
  max: number | null;
  exclusiveMin: boolean;
  maxLength: number | null;
  description: string | null;
}

export interface ModelInfo {
  name: string;
  description: string;
  labels: string[];
  positiveLabel: string;
  inputType: string;
  features: Feature[];
  liveVersion: { version: number } | null;
}

export interface Confusion {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export interface Figures {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface ModelVersion {
  model: string;
  version: number;
  status: 'CANDIDATE' | 'LIVE' | 'REJECTED' | 'RETIRED';
  datasetVersion: number | null;
  mlflowUrl: string | null;
  promotedBy: string | null;
  promotionReason: string | null;
  evaluation: string | null;
  createdAt: string;
  activatedAt: string | null;
  trainingMetrics: (Figures & { logLoss: number | null }) | null;
  liveMetrics: Figures & { feedbackCount: number; predictionCount: number };
}

export interface Metrics extends Figures {
  model: string;
  feedbackShare: number | null;
  predictionCount: number;
  feedbackCount: number;
  confusion: Confusion;
  liveVersion: ModelVersion | null;
}

export interface Prediction {
  id: string;
  model: string;
  label: string;
  probability: number;
  latencyMs: number;
  createdAt: string;
  scores: { label: string; probability: number }[];
  modelVersion: { version: number };
}

export type RetrainState = 'QUEUED' | 'SNAPSHOTTING' | 'TRAINING' | 'EVALUATING' | 'REGISTERING' | 'PROMOTED' | 'REJECTED' | 'FAILED';

export interface RetrainJob {
  id: string;
  model: string;
  state: RetrainState;
  progress: number;
  message: string | null;
  reason: string;
  version: number | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Alert {
  id: string;
  model: string | null;
  alertName: string | null;
  status: string;
  action: string;
  message: string;
  source: string;
  receivedAt: string;
  retrainJobId: string | null;
}
