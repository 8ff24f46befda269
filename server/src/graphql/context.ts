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
   * Alert webhook credentials: null when the bearer token is the webhook (or admin) token and,
   * with an HMAC secret configured, Grafana's signature over the body was verified; otherwise
   * which check failed.
   */
  webhookRefusal: string | null;
  /** Per-request batching and de-duplication of the queries resolvers make. */
  loaders: RequestLoaders;
}
