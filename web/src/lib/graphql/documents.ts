// Every operation the dashboard sends, in one place. `graphql()` is generated from
// schema/schema.graphql (web/codegen.ts): each document below is typed, results and variables,
// and one that no longer fits the schema fails the build and documents.test.ts.
import { graphql } from './generated/index.js';

export const METRICS_FIELDS = graphql(`
  fragment DashboardMetricsFields on ModelMetrics {
    model
    accuracy
    precision
    recall
    f1
    feedbackShare
    predictionCount
    feedbackCount
    accuracyInterval {
      lower
      upper
    }
    confusion {
      tp
      tn
      fp
      fn
    }
  }
`);

export const VERSION_FIELDS = graphql(`
  fragment DashboardVersionFields on ModelVersion {
    model
    version
    status
    datasetVersion
    datasetHash
    mlflowUrl
    mlflowRunId
    promotedBy
    promotionReason
    evaluation
    createdAt
    activatedAt
    gate {
      promoted
      margin
      championVersion
      summary
      comparisons {
        set
        rows
        challengerAccuracy
        championAccuracy
        challengerF1
        championF1
      }
    }
    trainingMetrics {
      accuracy
      precision
      recall
      f1
      logLoss
    }
    liveMetrics {
      accuracy
      precision
      recall
      f1
      feedbackCount
      predictionCount
      accuracyInterval {
        lower
        upper
      }
    }
  }
`);

export const JOB_FIELDS = graphql(`
  fragment DashboardJobFields on RetrainJob {
    id
    model
    state
    progress
    message
    reason
    version
    attempts
    createdAt
    startedAt
    finishedAt
  }
`);

export const ALERT_FIELDS = graphql(`
  fragment DashboardAlertFields on Alert {
    id
    model
    alertName
    status
    action
    message
    source
    receivedAt
    retrainJobId
  }
`);

export const ACTIVATION_FIELDS = graphql(`
  fragment DashboardActivationFields on ModelActivation {
    model
    version
    previousVersion
    actor
    reason
    createdAt
  }
`);

export const MODELS = graphql(`
  query DashboardModels {
    models {
      name
      description
      labels
      positiveLabel
      inputType
      features {
        name
        type
        min
        max
        exclusiveMin
        maxLength
        description
        categories
      }
      experimental
      liveVersion {
        version
        belowThreshold
      }
      retrainPolicy {
        afterFeedback
        minAccuracy
        window
        minSamples
        cooldownSeconds
        promotionMargin
      }
    }
  }
`);

export const METRICS = graphql(`
  query DashboardMetrics($model: String!) {
    metrics(model: $model) {
      ...DashboardMetricsFields
      liveVersion {
        ...DashboardVersionFields
      }
    }
  }
`);

/** The live version's figures over the accuracy trigger's window (the last `window` feedback). */
export const WINDOW_METRICS = graphql(`
  query DashboardWindowMetrics($model: String!, $version: Int!, $window: Int!) {
    metrics(model: $model, version: $version, window: { lastFeedback: $window }) {
      accuracy
      feedbackCount
      accuracyInterval {
        lower
        upper
      }
    }
  }
`);

export const METRICS_UPDATED = graphql(`
  subscription DashboardMetricsUpdated($model: String!) {
    metricsUpdated(model: $model) {
      ...DashboardMetricsFields
      liveVersion {
        ...DashboardVersionFields
      }
    }
  }
`);

export const PREDICT = graphql(`
  mutation DashboardPredict($input: PredictInput!) {
    predict(input: $input) {
      id
      model
      label
      probability
      latencyMs
      createdAt
      scores {
        label
        probability
      }
      modelVersion {
        version
      }
      explanation(tokens: 12) {
        ...DashboardExplanationFields
      }
    }
  }
`);

export const SUBMIT_FEEDBACK = graphql(`
  mutation DashboardFeedback($input: FeedbackInput!) {
    submitFeedback(input: $input) {
      id
      actual
      correct
    }
  }
`);

export const MODEL_VERSIONS = graphql(`
  query DashboardVersions($model: String!) {
    modelVersions(model: $model) {
      ...DashboardVersionFields
      trainingMetrics {
        confusion {
          tp
          tn
          fp
          fn
        }
      }
      dataset {
        version
        contentHash
        parentVersion
        rowCount
        trainRows
        holdoutRows
        labelCounts {
          key
          count
        }
        droppedRows
        droppedByReason {
          key
          count
        }
        sources
        feedbackFrom
        feedbackTo
        codeVersion
        createdAt
      }
    }
  }
`);

export const ACTIVATE_VERSION = graphql(`
  mutation DashboardActivate($model: String!, $version: Int!, $reason: String) {
    activateModelVersion(model: $model, version: $version, reason: $reason) {
      ...DashboardVersionFields
    }
  }
`);

export const MODEL_ACTIVATIONS = graphql(`
  query DashboardActivations($model: String!) {
    modelActivations(model: $model) {
      ...DashboardActivationFields
    }
  }
`);

export const MODEL_ACTIVATED = graphql(`
  subscription DashboardModelActivated($model: String!) {
    modelActivated(model: $model) {
      ...DashboardActivationFields
    }
  }
`);

/**
 * Checks an admin token without changing anything: activating a version that cannot exist is
 * refused as UNAUTHENTICATED (or FORBIDDEN) without a valid token, and NOT_FOUND with one, since
 * the token is checked first.
 */
// An admin-only read: a token that may list keys may do everything the dashboard offers.
export const CHECK_ADMIN_TOKEN = graphql(`
  query DashboardCheckToken {
    apiKeys {
      id
    }
  }
`);

export const RETRAIN_JOBS = graphql(`
  query DashboardRetrainJobs($model: String!) {
    retrainJobs(model: $model, limit: 10) {
      ...DashboardJobFields
    }
  }
`);

export const TRIGGER_RETRAIN = graphql(`
  mutation DashboardTriggerRetrain($model: String!, $reason: String) {
    triggerRetrain(model: $model, reason: $reason) {
      ...DashboardJobFields
    }
  }
`);

export const RETRAIN_STATUS = graphql(`
  subscription DashboardRetrainStatus($model: String!) {
    retrainStatus(model: $model) {
      ...DashboardJobFields
    }
  }
`);

export const ALERTS = graphql(`
  query DashboardAlerts($model: String!) {
    alerts(model: $model, limit: 10) {
      ...DashboardAlertFields
    }
  }
`);

export const ALERT_RECEIVED = graphql(`
  subscription DashboardAlertReceived($model: String!) {
    alertReceived(model: $model) {
      ...DashboardAlertFields
    }
  }
`);

/** The server-side history of a task (PostgreSQL, PREDICTION_TIME buckets), with what happened in each bucket. */
export const METRICS_HISTORY = graphql(`
  query DashboardMetricsHistory($model: String!, $from: DateTime!, $to: DateTime!) {
    metricsHistory(model: $model, from: $from, to: $to) {
      start
      end
      accuracy
      accuracyInterval {
        lower
        upper
      }
      correctedAccuracy
      estimatedAccuracy
      feedbackCount
      predictionCount
      markers {
        at
        kind
        message
        version
      }
    }
  }
`);

export const AUDIT_FIELDS = graphql(`
  fragment DashboardAuditFields on AuditEntry {
    id
    at
    actor
    kind
    model
    details
  }
`);

export const AUDIT_LOG = graphql(`
  query DashboardAuditLog($model: String!) {
    auditLog(model: $model, first: 30) {
      ...DashboardAuditFields
    }
  }
`);

export const AUDIT_ENTRY_ADDED = graphql(`
  subscription DashboardAuditEntryAdded($model: String!) {
    auditEntryAdded(model: $model) {
      ...DashboardAuditFields
    }
  }
`);

export const QUARANTINE_QUEUE = graphql(`
  query DashboardQuarantine($model: String!) {
    quarantinedFeedback(model: $model, first: 100) {
      id
      actual
      correct
      source
      endUserId
      quarantineReason
      createdAt
      prediction {
        id
        label
      }
    }
  }
`);

export const REVIEW_QUARANTINE = graphql(`
  mutation DashboardReviewQuarantine($ids: [ID!]!, $decision: QuarantineDecision!) {
    reviewQuarantine(ids: $ids, decision: $decision)
  }
`);

/** Time from prediction to feedback (the serving strip's feedback lag). */
export const LABEL_DELAY = graphql(`
  query DashboardLabelDelay($model: String!) {
    labelDelay(model: $model) {
      labelled
      p50Seconds
      p90Seconds
    }
  }
`);

export const CALIBRATION = graphql(`
  query DashboardCalibration($model: String!, $version: Int) {
    calibration(model: $model, version: $version) {
      version
      count
      method
      source
      expectedCalibrationError
      reliability {
        lower
        upper
        count
        accuracy
        meanConfidence
      }
    }
  }
`);

// The predictions list, explanations and sources (issue 14: predictions and labelling).
export const EXPLANATION_FIELDS = graphql(`
  fragment DashboardExplanationFields on PredictionExplanation {
    label
    runnerUp
    probability
    runnerUpProbability
    priorLogRatio
    logProbabilityRatio
    basis
    version
    contributions {
      feature
      kind
      value
      contribution
      tokens {
        token
        count
        contribution
      }
      otherTokenCount
      otherTokensContribution
      unknownTokenCount
    }
  }
`);

/** A listed prediction's feedback, as the list shows it and as labelling it answers. */
export const LISTED_FEEDBACK_FIELDS = graphql(`
  fragment DashboardListedFeedbackFields on Feedback {
    id
    actual
    correct
    source
    quarantined
    retractedAt
  }
`);

export const LISTED_PREDICTION_FIELDS = graphql(`
  fragment DashboardListedPredictionFields on Prediction {
    id
    label
    probability
    createdAt
    feedbackRequested
    input
    modelVersion {
      version
    }
    feedback {
      ...DashboardListedFeedbackFields
    }
  }
`);

export const PREDICTIONS = graphql(`
  query DashboardPredictions($model: String!, $filter: PredictionFilter, $first: Int, $after: ID) {
    predictions(model: $model, filter: $filter, first: $first, after: $after) {
      hasMore
      endCursor
      items {
        ...DashboardListedPredictionFields
      }
    }
  }
`);

export const PREDICTION_EXPLANATION = graphql(`
  query DashboardPredictionExplanation($id: ID!) {
    prediction(id: $id) {
      id
      explanation(tokens: 12) {
        ...DashboardExplanationFields
      }
    }
  }
`);

export const LIST_FEEDBACK = graphql(`
  mutation DashboardListFeedback($input: FeedbackInput!) {
    submitFeedback(input: $input) {
      ...DashboardListedFeedbackFields
    }
  }
`);

export const FEEDBACK_SOURCES = graphql(`
  query DashboardFeedbackSources($model: String!) {
    feedbackSources(model: $model) {
      source
      feedbackCount
      labelledCount
      quarantinedCount
      agreement
      agreementInterval {
        lower
        upper
      }
      trust {
        trusted
        configured
        agree
        disagree
        agreementLow
      }
    }
  }
`);

export const DRIFT_NOW = graphql(`
  query DashboardDrift($model: String!) {
    drift(model: $model) {
      model
      version
      drifted
      windowSize
      referenceSize
      features {
        name
        kind
        score
        pValue
        drifted
        unseenShare
        detail
        distribution {
          bin
          training
          live
        }
      }
    }
  }
`);

export const DRIFT_HISTORY = graphql(`
  query DashboardDriftHistory($model: String!, $from: DateTime!, $to: DateTime!) {
    driftHistory(model: $model, from: $from, to: $to) {
      start
      end
      version
      drifted
      windowSize
      features {
        name
        kind
        score
        drifted
        unseenShare
      }
    }
  }
`);

export const MONITORING_LINKS = graphql(`
  query DashboardMonitoringLinks {
    monitoringLinks {
      prometheus
      grafana
      mlflow
    }
  }
`);
