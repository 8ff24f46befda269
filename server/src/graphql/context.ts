import type { EventBus } from '../events/event-bus.js';
import type { FeedbackService } from '../feedback/feedback-service.js';
import type { MetricsService } from '../metrics/metrics-service.js';
import type { ModelService } from '../models/model-service.js';
import type { PredictionService } from '../predictions/prediction-service.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { RetrainService } from '../retraining/retrain-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { DatasetStore } from '../training/dataset-store.js';
import type { RequestLoaders } from './loaders.js';

/** What resolvers may call: the domain services, handed down from the composition root. */
export interface Services {
  tasks: TaskRegistry;
  models: ModelService;
  predictions: PredictionService;
  feedback: FeedbackService;
  metrics: MetricsService;
  events: EventBus;
  retrains: RetrainService;
  datasets: DatasetStore;
  alerts: AlertService;
}

export interface Context {
  services: Services;
  /** True when the request carries the admin bearer token. */
  admin: boolean;
  /**
   * Alert webhook credentials: the bearer token is the webhook (or admin) token, and — when an
   * HMAC secret is configured — Grafana's signature over the body was verified.
   */
  webhook: boolean;
  /** Why the request is not an authorised alert webhook (which check failed), null when it is. */
  webhookRefusal: string | null;
  /** Per-request batching and de-duplication of the queries resolvers make. */
  loaders: RequestLoaders;
}
