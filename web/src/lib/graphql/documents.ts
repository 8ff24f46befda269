// Every operation the dashboard sends, in one place. Field lists follow schema/schema.graphql.
import { gql } from '@urql/core';

const METRICS_FIELDS = /* GraphQL */ `
  model accuracy precision recall f1 feedbackShare predictionCount feedbackCount
  confusion { tp tn fp fn }
`;

const VERSION_FIELDS = /* GraphQL */ `
  model version status datasetVersion mlflowUrl promotedBy promotionReason evaluation createdAt activatedAt
  trainingMetrics { accuracy precision recall f1 logLoss }
  liveMetrics { accuracy precision recall f1 feedbackCount predictionCount }
`;

const JOB_FIELDS = /* GraphQL */ `
  id model state progress message reason version attempts createdAt startedAt finishedAt
`;

const ALERT_FIELDS = /* GraphQL */ `
  id model alertName status action message source receivedAt retrainJobId
`;

export const MODELS = gql`
  query DashboardModels {
    models {
      name description labels positiveLabel inputType
      features { name type min max exclusiveMin maxLength description }
      liveVersion { version }
    }
  }
`;

export const METRICS = gql`
  query DashboardMetrics($model: String!) {
    metrics(model: $model) { ${METRICS_FIELDS} liveVersion { ${VERSION_FIELDS} } }
  }
`;

export const METRICS_UPDATED = gql`
  subscription DashboardMetricsUpdated($model: String!) {
    metricsUpdated(model: $model) { ${METRICS_FIELDS} liveVersion { ${VERSION_FIELDS} } }
  }
`;

export const PREDICT = gql`
  mutation DashboardPredict($input: PredictInput!) {
    predict(input: $input) {
      id model label probability latencyMs createdAt
      scores { label probability }
      modelVersion { version }
    }
  }
`;

export const SUBMIT_FEEDBACK = gql`
  mutation DashboardFeedback($input: FeedbackInput!) {
    submitFeedback(input: $input) { id actual correct }
  }
`;

export const MODEL_VERSIONS = gql`
  query DashboardVersions($model: String!) {
    modelVersions(model: $model) { ${VERSION_FIELDS} }
  }
`;

export const ACTIVATE_VERSION = gql`
  mutation DashboardActivate($model: String!, $version: Int!, $reason: String) {
    activateModelVersion(model: $model, version: $version, reason: $reason) { ${VERSION_FIELDS} }
  }
`;

export const RETRAIN_JOBS = gql`
  query DashboardRetrainJobs($model: String!) {
    retrainJobs(model: $model, limit: 10) { ${JOB_FIELDS} }
  }
`;

export const TRIGGER_RETRAIN = gql`
  mutation DashboardTriggerRetrain($model: String!, $reason: String) {
    triggerRetrain(model: $model, reason: $reason) { ${JOB_FIELDS} }
  }
`;

export const RETRAIN_STATUS = gql`
  subscription DashboardRetrainStatus($model: String!) {
    retrainStatus(model: $model) { ${JOB_FIELDS} }
  }
`;

export const ALERTS = gql`
  query DashboardAlerts($model: String!) {
    alerts(model: $model, limit: 10) { ${ALERT_FIELDS} }
  }
`;

export const ALERT_RECEIVED = gql`
  subscription DashboardAlertReceived($model: String!) {
    alertReceived(model: $model) { ${ALERT_FIELDS} }
  }
`;
