import type { AccessControl } from '../access/access-control.js';
import type { ApiKeyService } from '../access/api-key-service.js';
import type { AuditService } from '../audit/audit-service.js';
import type { DriftService } from '../drift/drift-service.js';
import type { EventBus } from '../events/event-bus.js';
import type { FeedbackService } from '../feedback/feedback-service.js';
import type { ModelHistory } from '../feedback/model-history.js';
import type { MetricsService } from '../metrics/metrics-service.js';
import type { ModelService } from '../models/model-service.js';
import type { PredictionExplainer } from '../predictions/explanation.js';
import type { PredictionList } from '../predictions/prediction-list.js';
import type { PredictionService } from '../predictions/prediction-service.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { MonitoringLinks } from '../monitoring/monitoring-links.js';
import type { RetrainService } from '../retraining/retrain-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { DatasetStore } from '../training/dataset-store.js';

/** What resolvers may call: the domain services, handed down from the composition root. */
export interface Services {
  tasks: TaskRegistry;
  models: ModelService;
  predictions: PredictionService;
  /** The browsable list of recent predictions. */
  predictionList: PredictionList;
  /** Why a prediction was made (naive Bayes log-likelihood ratios). */
  explanations: PredictionExplainer;
  feedback: FeedbackService;
  /** Time travel and lineage. */
  history: ModelHistory;
  metrics: MetricsService;
  drift: DriftService;
  events: EventBus;
  retrains: RetrainService;
  datasets: DatasetStore;
  alerts: AlertService;
  /** Who may do what: authentication, scopes, rate limits (access/). */
  access: AccessControl;
  apiKeys: ApiKeyService;
  audit: AuditService;
  /** The configured monitoring UIs (a value, not a service). */
  monitoringLinks: MonitoringLinks;
}
