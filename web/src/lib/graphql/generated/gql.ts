/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment DashboardMetricsFields on ModelMetrics {\n    model\n    accuracy\n    precision\n    recall\n    f1\n    feedbackShare\n    predictionCount\n    feedbackCount\n    accuracyInterval {\n      lower\n      upper\n    }\n    confusion {\n      tp\n      tn\n      fp\n      fn\n    }\n  }\n": typeof types.DashboardMetricsFieldsFragmentDoc,
    "\n  fragment DashboardVersionFields on ModelVersion {\n    model\n    version\n    status\n    datasetVersion\n    datasetHash\n    mlflowUrl\n    mlflowRunId\n    promotedBy\n    promotionReason\n    evaluation\n    createdAt\n    activatedAt\n    gate {\n      promoted\n      margin\n      championVersion\n      summary\n      comparisons {\n        set\n        rows\n        challengerAccuracy\n        championAccuracy\n        challengerF1\n        championF1\n      }\n    }\n    trainingMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      logLoss\n    }\n    liveMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      feedbackCount\n      predictionCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n": typeof types.DashboardVersionFieldsFragmentDoc,
    "\n  fragment DashboardJobFields on RetrainJob {\n    id\n    model\n    state\n    progress\n    message\n    reason\n    version\n    attempts\n    createdAt\n    startedAt\n    finishedAt\n  }\n": typeof types.DashboardJobFieldsFragmentDoc,
    "\n  fragment DashboardAlertFields on Alert {\n    id\n    model\n    alertName\n    status\n    action\n    message\n    source\n    receivedAt\n    retrainJobId\n  }\n": typeof types.DashboardAlertFieldsFragmentDoc,
    "\n  fragment DashboardActivationFields on ModelActivation {\n    model\n    version\n    previousVersion\n    actor\n    reason\n    createdAt\n  }\n": typeof types.DashboardActivationFieldsFragmentDoc,
    "\n  query DashboardModels {\n    models {\n      name\n      description\n      labels\n      positiveLabel\n      inputType\n      features {\n        name\n        type\n        min\n        max\n        exclusiveMin\n        maxLength\n        description\n        categories\n      }\n      experimental\n      liveVersion {\n        version\n        belowThreshold\n      }\n      retrainPolicy {\n        afterFeedback\n        minAccuracy\n        window\n        minSamples\n        cooldownSeconds\n        promotionMargin\n      }\n    }\n  }\n": typeof types.DashboardModelsDocument,
    "\n  query DashboardMetrics($model: String!) {\n    metrics(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n": typeof types.DashboardMetricsDocument,
    "\n  query DashboardWindowMetrics($model: String!, $version: Int!, $window: Int!) {\n    metrics(model: $model, version: $version, window: { lastFeedback: $window }) {\n      accuracy\n      feedbackCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n": typeof types.DashboardWindowMetricsDocument,
    "\n  subscription DashboardMetricsUpdated($model: String!) {\n    metricsUpdated(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n": typeof types.DashboardMetricsUpdatedDocument,
    "\n  mutation DashboardPredict($input: PredictInput!) {\n    predict(input: $input) {\n      id\n      model\n      label\n      probability\n      latencyMs\n      createdAt\n      scores {\n        label\n        probability\n      }\n      modelVersion {\n        version\n      }\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n": typeof types.DashboardPredictDocument,
    "\n  mutation DashboardFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      id\n      actual\n      correct\n    }\n  }\n": typeof types.DashboardFeedbackDocument,
    "\n  query DashboardVersions($model: String!) {\n    modelVersions(model: $model) {\n      ...DashboardVersionFields\n      trainingMetrics {\n        confusion {\n          tp\n          tn\n          fp\n          fn\n        }\n      }\n      dataset {\n        version\n        contentHash\n        parentVersion\n        rowCount\n        trainRows\n        holdoutRows\n        labelCounts {\n          key\n          count\n        }\n        droppedRows\n        droppedByReason {\n          key\n          count\n        }\n        sources\n        feedbackFrom\n        feedbackTo\n        codeVersion\n        createdAt\n      }\n    }\n  }\n": typeof types.DashboardVersionsDocument,
    "\n  mutation DashboardActivate($model: String!, $version: Int!, $reason: String) {\n    activateModelVersion(model: $model, version: $version, reason: $reason) {\n      ...DashboardVersionFields\n    }\n  }\n": typeof types.DashboardActivateDocument,
    "\n  query DashboardActivations($model: String!) {\n    modelActivations(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n": typeof types.DashboardActivationsDocument,
    "\n  subscription DashboardModelActivated($model: String!) {\n    modelActivated(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n": typeof types.DashboardModelActivatedDocument,
    "\n  query DashboardCheckToken {\n    apiKeys {\n      id\n    }\n  }\n": typeof types.DashboardCheckTokenDocument,
    "\n  query DashboardRetrainJobs($model: String!) {\n    retrainJobs(model: $model, limit: 10) {\n      ...DashboardJobFields\n    }\n  }\n": typeof types.DashboardRetrainJobsDocument,
    "\n  mutation DashboardTriggerRetrain($model: String!, $reason: String) {\n    triggerRetrain(model: $model, reason: $reason) {\n      ...DashboardJobFields\n    }\n  }\n": typeof types.DashboardTriggerRetrainDocument,
    "\n  subscription DashboardRetrainStatus($model: String!) {\n    retrainStatus(model: $model) {\n      ...DashboardJobFields\n    }\n  }\n": typeof types.DashboardRetrainStatusDocument,
    "\n  query DashboardAlerts($model: String!) {\n    alerts(model: $model, limit: 10) {\n      ...DashboardAlertFields\n    }\n  }\n": typeof types.DashboardAlertsDocument,
    "\n  subscription DashboardAlertReceived($model: String!) {\n    alertReceived(model: $model) {\n      ...DashboardAlertFields\n    }\n  }\n": typeof types.DashboardAlertReceivedDocument,
    "\n  query DashboardMetricsHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    metricsHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      accuracy\n      accuracyInterval {\n        lower\n        upper\n      }\n      correctedAccuracy\n      estimatedAccuracy\n      feedbackCount\n      predictionCount\n      markers {\n        at\n        kind\n        message\n        version\n      }\n    }\n  }\n": typeof types.DashboardMetricsHistoryDocument,
    "\n  fragment DashboardAuditFields on AuditEntry {\n    id\n    at\n    actor\n    kind\n    model\n    details\n  }\n": typeof types.DashboardAuditFieldsFragmentDoc,
    "\n  query DashboardAuditLog($model: String!) {\n    auditLog(model: $model, first: 30) {\n      ...DashboardAuditFields\n    }\n  }\n": typeof types.DashboardAuditLogDocument,
    "\n  subscription DashboardAuditEntryAdded($model: String!) {\n    auditEntryAdded(model: $model) {\n      ...DashboardAuditFields\n    }\n  }\n": typeof types.DashboardAuditEntryAddedDocument,
    "\n  query DashboardQuarantine($model: String!) {\n    quarantinedFeedback(model: $model, first: 100) {\n      id\n      actual\n      correct\n      source\n      endUserId\n      quarantineReason\n      createdAt\n      prediction {\n        id\n        label\n      }\n    }\n  }\n": typeof types.DashboardQuarantineDocument,
    "\n  mutation DashboardReviewQuarantine($ids: [ID!]!, $decision: QuarantineDecision!) {\n    reviewQuarantine(ids: $ids, decision: $decision)\n  }\n": typeof types.DashboardReviewQuarantineDocument,
    "\n  query DashboardLabelDelay($model: String!) {\n    labelDelay(model: $model) {\n      labelled\n      p50Seconds\n      p90Seconds\n    }\n  }\n": typeof types.DashboardLabelDelayDocument,
    "\n  query DashboardCalibration($model: String!, $version: Int) {\n    calibration(model: $model, version: $version) {\n      version\n      count\n      method\n      source\n      expectedCalibrationError\n      reliability {\n        lower\n        upper\n        count\n        accuracy\n        meanConfidence\n      }\n    }\n  }\n": typeof types.DashboardCalibrationDocument,
    "\n  fragment DashboardExplanationFields on PredictionExplanation {\n    label\n    runnerUp\n    probability\n    runnerUpProbability\n    priorLogRatio\n    logProbabilityRatio\n    basis\n    version\n    contributions {\n      feature\n      kind\n      value\n      contribution\n      tokens {\n        token\n        count\n        contribution\n      }\n      otherTokenCount\n      otherTokensContribution\n      unknownTokenCount\n    }\n  }\n": typeof types.DashboardExplanationFieldsFragmentDoc,
    "\n  fragment DashboardListedFeedbackFields on Feedback {\n    id\n    actual\n    correct\n    source\n    quarantined\n    retractedAt\n  }\n": typeof types.DashboardListedFeedbackFieldsFragmentDoc,
    "\n  fragment DashboardListedPredictionFields on Prediction {\n    id\n    label\n    probability\n    createdAt\n    feedbackRequested\n    input\n    modelVersion {\n      version\n    }\n    feedback {\n      ...DashboardListedFeedbackFields\n    }\n  }\n": typeof types.DashboardListedPredictionFieldsFragmentDoc,
    "\n  query DashboardPredictions($model: String!, $filter: PredictionFilter, $first: Int, $after: ID) {\n    predictions(model: $model, filter: $filter, first: $first, after: $after) {\n      hasMore\n      endCursor\n      items {\n        ...DashboardListedPredictionFields\n      }\n    }\n  }\n": typeof types.DashboardPredictionsDocument,
    "\n  query DashboardPredictionExplanation($id: ID!) {\n    prediction(id: $id) {\n      id\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n": typeof types.DashboardPredictionExplanationDocument,
    "\n  mutation DashboardListFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      ...DashboardListedFeedbackFields\n    }\n  }\n": typeof types.DashboardListFeedbackDocument,
    "\n  query DashboardFeedbackSources($model: String!) {\n    feedbackSources(model: $model) {\n      source\n      feedbackCount\n      labelledCount\n      quarantinedCount\n      agreement\n      agreementInterval {\n        lower\n        upper\n      }\n      trust {\n        trusted\n        configured\n        agree\n        disagree\n        agreementLow\n      }\n    }\n  }\n": typeof types.DashboardFeedbackSourcesDocument,
    "\n  query DashboardDrift($model: String!) {\n    drift(model: $model) {\n      model\n      version\n      drifted\n      windowSize\n      referenceSize\n      features {\n        name\n        kind\n        score\n        pValue\n        drifted\n        unseenShare\n        detail\n        distribution {\n          bin\n          training\n          live\n        }\n      }\n    }\n  }\n": typeof types.DashboardDriftDocument,
    "\n  query DashboardDriftHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    driftHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      version\n      drifted\n      windowSize\n      features {\n        name\n        kind\n        score\n        drifted\n        unseenShare\n      }\n    }\n  }\n": typeof types.DashboardDriftHistoryDocument,
    "\n  query DashboardMonitoringLinks {\n    monitoringLinks {\n      prometheus\n      grafana\n      mlflow\n    }\n  }\n": typeof types.DashboardMonitoringLinksDocument,
};
const documents: Documents = {
    "\n  fragment DashboardMetricsFields on ModelMetrics {\n    model\n    accuracy\n    precision\n    recall\n    f1\n    feedbackShare\n    predictionCount\n    feedbackCount\n    accuracyInterval {\n      lower\n      upper\n    }\n    confusion {\n      tp\n      tn\n      fp\n      fn\n    }\n  }\n": types.DashboardMetricsFieldsFragmentDoc,
    "\n  fragment DashboardVersionFields on ModelVersion {\n    model\n    version\n    status\n    datasetVersion\n    datasetHash\n    mlflowUrl\n    mlflowRunId\n    promotedBy\n    promotionReason\n    evaluation\n    createdAt\n    activatedAt\n    gate {\n      promoted\n      margin\n      championVersion\n      summary\n      comparisons {\n        set\n        rows\n        challengerAccuracy\n        championAccuracy\n        challengerF1\n        championF1\n      }\n    }\n    trainingMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      logLoss\n    }\n    liveMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      feedbackCount\n      predictionCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n": types.DashboardVersionFieldsFragmentDoc,
    "\n  fragment DashboardJobFields on RetrainJob {\n    id\n    model\n    state\n    progress\n    message\n    reason\n    version\n    attempts\n    createdAt\n    startedAt\n    finishedAt\n  }\n": types.DashboardJobFieldsFragmentDoc,
    "\n  fragment DashboardAlertFields on Alert {\n    id\n    model\n    alertName\n    status\n    action\n    message\n    source\n    receivedAt\n    retrainJobId\n  }\n": types.DashboardAlertFieldsFragmentDoc,
    "\n  fragment DashboardActivationFields on ModelActivation {\n    model\n    version\n    previousVersion\n    actor\n    reason\n    createdAt\n  }\n": types.DashboardActivationFieldsFragmentDoc,
    "\n  query DashboardModels {\n    models {\n      name\n      description\n      labels\n      positiveLabel\n      inputType\n      features {\n        name\n        type\n        min\n        max\n        exclusiveMin\n        maxLength\n        description\n        categories\n      }\n      experimental\n      liveVersion {\n        version\n        belowThreshold\n      }\n      retrainPolicy {\n        afterFeedback\n        minAccuracy\n        window\n        minSamples\n        cooldownSeconds\n        promotionMargin\n      }\n    }\n  }\n": types.DashboardModelsDocument,
    "\n  query DashboardMetrics($model: String!) {\n    metrics(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n": types.DashboardMetricsDocument,
    "\n  query DashboardWindowMetrics($model: String!, $version: Int!, $window: Int!) {\n    metrics(model: $model, version: $version, window: { lastFeedback: $window }) {\n      accuracy\n      feedbackCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n": types.DashboardWindowMetricsDocument,
    "\n  subscription DashboardMetricsUpdated($model: String!) {\n    metricsUpdated(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n": types.DashboardMetricsUpdatedDocument,
    "\n  mutation DashboardPredict($input: PredictInput!) {\n    predict(input: $input) {\n      id\n      model\n      label\n      probability\n      latencyMs\n      createdAt\n      scores {\n        label\n        probability\n      }\n      modelVersion {\n        version\n      }\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n": types.DashboardPredictDocument,
    "\n  mutation DashboardFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      id\n      actual\n      correct\n    }\n  }\n": types.DashboardFeedbackDocument,
    "\n  query DashboardVersions($model: String!) {\n    modelVersions(model: $model) {\n      ...DashboardVersionFields\n      trainingMetrics {\n        confusion {\n          tp\n          tn\n          fp\n          fn\n        }\n      }\n      dataset {\n        version\n        contentHash\n        parentVersion\n        rowCount\n        trainRows\n        holdoutRows\n        labelCounts {\n          key\n          count\n        }\n        droppedRows\n        droppedByReason {\n          key\n          count\n        }\n        sources\n        feedbackFrom\n        feedbackTo\n        codeVersion\n        createdAt\n      }\n    }\n  }\n": types.DashboardVersionsDocument,
    "\n  mutation DashboardActivate($model: String!, $version: Int!, $reason: String) {\n    activateModelVersion(model: $model, version: $version, reason: $reason) {\n      ...DashboardVersionFields\n    }\n  }\n": types.DashboardActivateDocument,
    "\n  query DashboardActivations($model: String!) {\n    modelActivations(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n": types.DashboardActivationsDocument,
    "\n  subscription DashboardModelActivated($model: String!) {\n    modelActivated(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n": types.DashboardModelActivatedDocument,
    "\n  query DashboardCheckToken {\n    apiKeys {\n      id\n    }\n  }\n": types.DashboardCheckTokenDocument,
    "\n  query DashboardRetrainJobs($model: String!) {\n    retrainJobs(model: $model, limit: 10) {\n      ...DashboardJobFields\n    }\n  }\n": types.DashboardRetrainJobsDocument,
    "\n  mutation DashboardTriggerRetrain($model: String!, $reason: String) {\n    triggerRetrain(model: $model, reason: $reason) {\n      ...DashboardJobFields\n    }\n  }\n": types.DashboardTriggerRetrainDocument,
    "\n  subscription DashboardRetrainStatus($model: String!) {\n    retrainStatus(model: $model) {\n      ...DashboardJobFields\n    }\n  }\n": types.DashboardRetrainStatusDocument,
    "\n  query DashboardAlerts($model: String!) {\n    alerts(model: $model, limit: 10) {\n      ...DashboardAlertFields\n    }\n  }\n": types.DashboardAlertsDocument,
    "\n  subscription DashboardAlertReceived($model: String!) {\n    alertReceived(model: $model) {\n      ...DashboardAlertFields\n    }\n  }\n": types.DashboardAlertReceivedDocument,
    "\n  query DashboardMetricsHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    metricsHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      accuracy\n      accuracyInterval {\n        lower\n        upper\n      }\n      correctedAccuracy\n      estimatedAccuracy\n      feedbackCount\n      predictionCount\n      markers {\n        at\n        kind\n        message\n        version\n      }\n    }\n  }\n": types.DashboardMetricsHistoryDocument,
    "\n  fragment DashboardAuditFields on AuditEntry {\n    id\n    at\n    actor\n    kind\n    model\n    details\n  }\n": types.DashboardAuditFieldsFragmentDoc,
    "\n  query DashboardAuditLog($model: String!) {\n    auditLog(model: $model, first: 30) {\n      ...DashboardAuditFields\n    }\n  }\n": types.DashboardAuditLogDocument,
    "\n  subscription DashboardAuditEntryAdded($model: String!) {\n    auditEntryAdded(model: $model) {\n      ...DashboardAuditFields\n    }\n  }\n": types.DashboardAuditEntryAddedDocument,
    "\n  query DashboardQuarantine($model: String!) {\n    quarantinedFeedback(model: $model, first: 100) {\n      id\n      actual\n      correct\n      source\n      endUserId\n      quarantineReason\n      createdAt\n      prediction {\n        id\n        label\n      }\n    }\n  }\n": types.DashboardQuarantineDocument,
    "\n  mutation DashboardReviewQuarantine($ids: [ID!]!, $decision: QuarantineDecision!) {\n    reviewQuarantine(ids: $ids, decision: $decision)\n  }\n": types.DashboardReviewQuarantineDocument,
    "\n  query DashboardLabelDelay($model: String!) {\n    labelDelay(model: $model) {\n      labelled\n      p50Seconds\n      p90Seconds\n    }\n  }\n": types.DashboardLabelDelayDocument,
    "\n  query DashboardCalibration($model: String!, $version: Int) {\n    calibration(model: $model, version: $version) {\n      version\n      count\n      method\n      source\n      expectedCalibrationError\n      reliability {\n        lower\n        upper\n        count\n        accuracy\n        meanConfidence\n      }\n    }\n  }\n": types.DashboardCalibrationDocument,
    "\n  fragment DashboardExplanationFields on PredictionExplanation {\n    label\n    runnerUp\n    probability\n    runnerUpProbability\n    priorLogRatio\n    logProbabilityRatio\n    basis\n    version\n    contributions {\n      feature\n      kind\n      value\n      contribution\n      tokens {\n        token\n        count\n        contribution\n      }\n      otherTokenCount\n      otherTokensContribution\n      unknownTokenCount\n    }\n  }\n": types.DashboardExplanationFieldsFragmentDoc,
    "\n  fragment DashboardListedFeedbackFields on Feedback {\n    id\n    actual\n    correct\n    source\n    quarantined\n    retractedAt\n  }\n": types.DashboardListedFeedbackFieldsFragmentDoc,
    "\n  fragment DashboardListedPredictionFields on Prediction {\n    id\n    label\n    probability\n    createdAt\n    feedbackRequested\n    input\n    modelVersion {\n      version\n    }\n    feedback {\n      ...DashboardListedFeedbackFields\n    }\n  }\n": types.DashboardListedPredictionFieldsFragmentDoc,
    "\n  query DashboardPredictions($model: String!, $filter: PredictionFilter, $first: Int, $after: ID) {\n    predictions(model: $model, filter: $filter, first: $first, after: $after) {\n      hasMore\n      endCursor\n      items {\n        ...DashboardListedPredictionFields\n      }\n    }\n  }\n": types.DashboardPredictionsDocument,
    "\n  query DashboardPredictionExplanation($id: ID!) {\n    prediction(id: $id) {\n      id\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n": types.DashboardPredictionExplanationDocument,
    "\n  mutation DashboardListFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      ...DashboardListedFeedbackFields\n    }\n  }\n": types.DashboardListFeedbackDocument,
    "\n  query DashboardFeedbackSources($model: String!) {\n    feedbackSources(model: $model) {\n      source\n      feedbackCount\n      labelledCount\n      quarantinedCount\n      agreement\n      agreementInterval {\n        lower\n        upper\n      }\n      trust {\n        trusted\n        configured\n        agree\n        disagree\n        agreementLow\n      }\n    }\n  }\n": types.DashboardFeedbackSourcesDocument,
    "\n  query DashboardDrift($model: String!) {\n    drift(model: $model) {\n      model\n      version\n      drifted\n      windowSize\n      referenceSize\n      features {\n        name\n        kind\n        score\n        pValue\n        drifted\n        unseenShare\n        detail\n        distribution {\n          bin\n          training\n          live\n        }\n      }\n    }\n  }\n": types.DashboardDriftDocument,
    "\n  query DashboardDriftHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    driftHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      version\n      drifted\n      windowSize\n      features {\n        name\n        kind\n        score\n        drifted\n        unseenShare\n      }\n    }\n  }\n": types.DashboardDriftHistoryDocument,
    "\n  query DashboardMonitoringLinks {\n    monitoringLinks {\n      prometheus\n      grafana\n      mlflow\n    }\n  }\n": types.DashboardMonitoringLinksDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardMetricsFields on ModelMetrics {\n    model\n    accuracy\n    precision\n    recall\n    f1\n    feedbackShare\n    predictionCount\n    feedbackCount\n    accuracyInterval {\n      lower\n      upper\n    }\n    confusion {\n      tp\n      tn\n      fp\n      fn\n    }\n  }\n"): (typeof documents)["\n  fragment DashboardMetricsFields on ModelMetrics {\n    model\n    accuracy\n    precision\n    recall\n    f1\n    feedbackShare\n    predictionCount\n    feedbackCount\n    accuracyInterval {\n      lower\n      upper\n    }\n    confusion {\n      tp\n      tn\n      fp\n      fn\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardVersionFields on ModelVersion {\n    model\n    version\n    status\n    datasetVersion\n    datasetHash\n    mlflowUrl\n    mlflowRunId\n    promotedBy\n    promotionReason\n    evaluation\n    createdAt\n    activatedAt\n    gate {\n      promoted\n      margin\n      championVersion\n      summary\n      comparisons {\n        set\n        rows\n        challengerAccuracy\n        championAccuracy\n        challengerF1\n        championF1\n      }\n    }\n    trainingMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      logLoss\n    }\n    liveMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      feedbackCount\n      predictionCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment DashboardVersionFields on ModelVersion {\n    model\n    version\n    status\n    datasetVersion\n    datasetHash\n    mlflowUrl\n    mlflowRunId\n    promotedBy\n    promotionReason\n    evaluation\n    createdAt\n    activatedAt\n    gate {\n      promoted\n      margin\n      championVersion\n      summary\n      comparisons {\n        set\n        rows\n        challengerAccuracy\n        championAccuracy\n        challengerF1\n        championF1\n      }\n    }\n    trainingMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      logLoss\n    }\n    liveMetrics {\n      accuracy\n      precision\n      recall\n      f1\n      feedbackCount\n      predictionCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardJobFields on RetrainJob {\n    id\n    model\n    state\n    progress\n    message\n    reason\n    version\n    attempts\n    createdAt\n    startedAt\n    finishedAt\n  }\n"): (typeof documents)["\n  fragment DashboardJobFields on RetrainJob {\n    id\n    model\n    state\n    progress\n    message\n    reason\n    version\n    attempts\n    createdAt\n    startedAt\n    finishedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardAlertFields on Alert {\n    id\n    model\n    alertName\n    status\n    action\n    message\n    source\n    receivedAt\n    retrainJobId\n  }\n"): (typeof documents)["\n  fragment DashboardAlertFields on Alert {\n    id\n    model\n    alertName\n    status\n    action\n    message\n    source\n    receivedAt\n    retrainJobId\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardActivationFields on ModelActivation {\n    model\n    version\n    previousVersion\n    actor\n    reason\n    createdAt\n  }\n"): (typeof documents)["\n  fragment DashboardActivationFields on ModelActivation {\n    model\n    version\n    previousVersion\n    actor\n    reason\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardModels {\n    models {\n      name\n      description\n      labels\n      positiveLabel\n      inputType\n      features {\n        name\n        type\n        min\n        max\n        exclusiveMin\n        maxLength\n        description\n        categories\n      }\n      experimental\n      liveVersion {\n        version\n        belowThreshold\n      }\n      retrainPolicy {\n        afterFeedback\n        minAccuracy\n        window\n        minSamples\n        cooldownSeconds\n        promotionMargin\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardModels {\n    models {\n      name\n      description\n      labels\n      positiveLabel\n      inputType\n      features {\n        name\n        type\n        min\n        max\n        exclusiveMin\n        maxLength\n        description\n        categories\n      }\n      experimental\n      liveVersion {\n        version\n        belowThreshold\n      }\n      retrainPolicy {\n        afterFeedback\n        minAccuracy\n        window\n        minSamples\n        cooldownSeconds\n        promotionMargin\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardMetrics($model: String!) {\n    metrics(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardMetrics($model: String!) {\n    metrics(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardWindowMetrics($model: String!, $version: Int!, $window: Int!) {\n    metrics(model: $model, version: $version, window: { lastFeedback: $window }) {\n      accuracy\n      feedbackCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardWindowMetrics($model: String!, $version: Int!, $window: Int!) {\n    metrics(model: $model, version: $version, window: { lastFeedback: $window }) {\n      accuracy\n      feedbackCount\n      accuracyInterval {\n        lower\n        upper\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardMetricsUpdated($model: String!) {\n    metricsUpdated(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardMetricsUpdated($model: String!) {\n    metricsUpdated(model: $model) {\n      ...DashboardMetricsFields\n      liveVersion {\n        ...DashboardVersionFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardPredict($input: PredictInput!) {\n    predict(input: $input) {\n      id\n      model\n      label\n      probability\n      latencyMs\n      createdAt\n      scores {\n        label\n        probability\n      }\n      modelVersion {\n        version\n      }\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardPredict($input: PredictInput!) {\n    predict(input: $input) {\n      id\n      model\n      label\n      probability\n      latencyMs\n      createdAt\n      scores {\n        label\n        probability\n      }\n      modelVersion {\n        version\n      }\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      id\n      actual\n      correct\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      id\n      actual\n      correct\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardVersions($model: String!) {\n    modelVersions(model: $model) {\n      ...DashboardVersionFields\n      trainingMetrics {\n        confusion {\n          tp\n          tn\n          fp\n          fn\n        }\n      }\n      dataset {\n        version\n        contentHash\n        parentVersion\n        rowCount\n        trainRows\n        holdoutRows\n        labelCounts {\n          key\n          count\n        }\n        droppedRows\n        droppedByReason {\n          key\n          count\n        }\n        sources\n        feedbackFrom\n        feedbackTo\n        codeVersion\n        createdAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardVersions($model: String!) {\n    modelVersions(model: $model) {\n      ...DashboardVersionFields\n      trainingMetrics {\n        confusion {\n          tp\n          tn\n          fp\n          fn\n        }\n      }\n      dataset {\n        version\n        contentHash\n        parentVersion\n        rowCount\n        trainRows\n        holdoutRows\n        labelCounts {\n          key\n          count\n        }\n        droppedRows\n        droppedByReason {\n          key\n          count\n        }\n        sources\n        feedbackFrom\n        feedbackTo\n        codeVersion\n        createdAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardActivate($model: String!, $version: Int!, $reason: String) {\n    activateModelVersion(model: $model, version: $version, reason: $reason) {\n      ...DashboardVersionFields\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardActivate($model: String!, $version: Int!, $reason: String) {\n    activateModelVersion(model: $model, version: $version, reason: $reason) {\n      ...DashboardVersionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardActivations($model: String!) {\n    modelActivations(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n"): (typeof documents)["\n  query DashboardActivations($model: String!) {\n    modelActivations(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardModelActivated($model: String!) {\n    modelActivated(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardModelActivated($model: String!) {\n    modelActivated(model: $model) {\n      ...DashboardActivationFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardCheckToken {\n    apiKeys {\n      id\n    }\n  }\n"): (typeof documents)["\n  query DashboardCheckToken {\n    apiKeys {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardRetrainJobs($model: String!) {\n    retrainJobs(model: $model, limit: 10) {\n      ...DashboardJobFields\n    }\n  }\n"): (typeof documents)["\n  query DashboardRetrainJobs($model: String!) {\n    retrainJobs(model: $model, limit: 10) {\n      ...DashboardJobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardTriggerRetrain($model: String!, $reason: String) {\n    triggerRetrain(model: $model, reason: $reason) {\n      ...DashboardJobFields\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardTriggerRetrain($model: String!, $reason: String) {\n    triggerRetrain(model: $model, reason: $reason) {\n      ...DashboardJobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardRetrainStatus($model: String!) {\n    retrainStatus(model: $model) {\n      ...DashboardJobFields\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardRetrainStatus($model: String!) {\n    retrainStatus(model: $model) {\n      ...DashboardJobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardAlerts($model: String!) {\n    alerts(model: $model, limit: 10) {\n      ...DashboardAlertFields\n    }\n  }\n"): (typeof documents)["\n  query DashboardAlerts($model: String!) {\n    alerts(model: $model, limit: 10) {\n      ...DashboardAlertFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardAlertReceived($model: String!) {\n    alertReceived(model: $model) {\n      ...DashboardAlertFields\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardAlertReceived($model: String!) {\n    alertReceived(model: $model) {\n      ...DashboardAlertFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardMetricsHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    metricsHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      accuracy\n      accuracyInterval {\n        lower\n        upper\n      }\n      correctedAccuracy\n      estimatedAccuracy\n      feedbackCount\n      predictionCount\n      markers {\n        at\n        kind\n        message\n        version\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardMetricsHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    metricsHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      accuracy\n      accuracyInterval {\n        lower\n        upper\n      }\n      correctedAccuracy\n      estimatedAccuracy\n      feedbackCount\n      predictionCount\n      markers {\n        at\n        kind\n        message\n        version\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardAuditFields on AuditEntry {\n    id\n    at\n    actor\n    kind\n    model\n    details\n  }\n"): (typeof documents)["\n  fragment DashboardAuditFields on AuditEntry {\n    id\n    at\n    actor\n    kind\n    model\n    details\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardAuditLog($model: String!) {\n    auditLog(model: $model, first: 30) {\n      ...DashboardAuditFields\n    }\n  }\n"): (typeof documents)["\n  query DashboardAuditLog($model: String!) {\n    auditLog(model: $model, first: 30) {\n      ...DashboardAuditFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardAuditEntryAdded($model: String!) {\n    auditEntryAdded(model: $model) {\n      ...DashboardAuditFields\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardAuditEntryAdded($model: String!) {\n    auditEntryAdded(model: $model) {\n      ...DashboardAuditFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardQuarantine($model: String!) {\n    quarantinedFeedback(model: $model, first: 100) {\n      id\n      actual\n      correct\n      source\n      endUserId\n      quarantineReason\n      createdAt\n      prediction {\n        id\n        label\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardQuarantine($model: String!) {\n    quarantinedFeedback(model: $model, first: 100) {\n      id\n      actual\n      correct\n      source\n      endUserId\n      quarantineReason\n      createdAt\n      prediction {\n        id\n        label\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardReviewQuarantine($ids: [ID!]!, $decision: QuarantineDecision!) {\n    reviewQuarantine(ids: $ids, decision: $decision)\n  }\n"): (typeof documents)["\n  mutation DashboardReviewQuarantine($ids: [ID!]!, $decision: QuarantineDecision!) {\n    reviewQuarantine(ids: $ids, decision: $decision)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardLabelDelay($model: String!) {\n    labelDelay(model: $model) {\n      labelled\n      p50Seconds\n      p90Seconds\n    }\n  }\n"): (typeof documents)["\n  query DashboardLabelDelay($model: String!) {\n    labelDelay(model: $model) {\n      labelled\n      p50Seconds\n      p90Seconds\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardCalibration($model: String!, $version: Int) {\n    calibration(model: $model, version: $version) {\n      version\n      count\n      method\n      source\n      expectedCalibrationError\n      reliability {\n        lower\n        upper\n        count\n        accuracy\n        meanConfidence\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardCalibration($model: String!, $version: Int) {\n    calibration(model: $model, version: $version) {\n      version\n      count\n      method\n      source\n      expectedCalibrationError\n      reliability {\n        lower\n        upper\n        count\n        accuracy\n        meanConfidence\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardExplanationFields on PredictionExplanation {\n    label\n    runnerUp\n    probability\n    runnerUpProbability\n    priorLogRatio\n    logProbabilityRatio\n    basis\n    version\n    contributions {\n      feature\n      kind\n      value\n      contribution\n      tokens {\n        token\n        count\n        contribution\n      }\n      otherTokenCount\n      otherTokensContribution\n      unknownTokenCount\n    }\n  }\n"): (typeof documents)["\n  fragment DashboardExplanationFields on PredictionExplanation {\n    label\n    runnerUp\n    probability\n    runnerUpProbability\n    priorLogRatio\n    logProbabilityRatio\n    basis\n    version\n    contributions {\n      feature\n      kind\n      value\n      contribution\n      tokens {\n        token\n        count\n        contribution\n      }\n      otherTokenCount\n      otherTokensContribution\n      unknownTokenCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardListedFeedbackFields on Feedback {\n    id\n    actual\n    correct\n    source\n    quarantined\n    retractedAt\n  }\n"): (typeof documents)["\n  fragment DashboardListedFeedbackFields on Feedback {\n    id\n    actual\n    correct\n    source\n    quarantined\n    retractedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardListedPredictionFields on Prediction {\n    id\n    label\n    probability\n    createdAt\n    feedbackRequested\n    input\n    modelVersion {\n      version\n    }\n    feedback {\n      ...DashboardListedFeedbackFields\n    }\n  }\n"): (typeof documents)["\n  fragment DashboardListedPredictionFields on Prediction {\n    id\n    label\n    probability\n    createdAt\n    feedbackRequested\n    input\n    modelVersion {\n      version\n    }\n    feedback {\n      ...DashboardListedFeedbackFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardPredictions($model: String!, $filter: PredictionFilter, $first: Int, $after: ID) {\n    predictions(model: $model, filter: $filter, first: $first, after: $after) {\n      hasMore\n      endCursor\n      items {\n        ...DashboardListedPredictionFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardPredictions($model: String!, $filter: PredictionFilter, $first: Int, $after: ID) {\n    predictions(model: $model, filter: $filter, first: $first, after: $after) {\n      hasMore\n      endCursor\n      items {\n        ...DashboardListedPredictionFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardPredictionExplanation($id: ID!) {\n    prediction(id: $id) {\n      id\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardPredictionExplanation($id: ID!) {\n    prediction(id: $id) {\n      id\n      explanation(tokens: 12) {\n        ...DashboardExplanationFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardListFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      ...DashboardListedFeedbackFields\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardListFeedback($input: FeedbackInput!) {\n    submitFeedback(input: $input) {\n      ...DashboardListedFeedbackFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardFeedbackSources($model: String!) {\n    feedbackSources(model: $model) {\n      source\n      feedbackCount\n      labelledCount\n      quarantinedCount\n      agreement\n      agreementInterval {\n        lower\n        upper\n      }\n      trust {\n        trusted\n        configured\n        agree\n        disagree\n        agreementLow\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardFeedbackSources($model: String!) {\n    feedbackSources(model: $model) {\n      source\n      feedbackCount\n      labelledCount\n      quarantinedCount\n      agreement\n      agreementInterval {\n        lower\n        upper\n      }\n      trust {\n        trusted\n        configured\n        agree\n        disagree\n        agreementLow\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardDrift($model: String!) {\n    drift(model: $model) {\n      model\n      version\n      drifted\n      windowSize\n      referenceSize\n      features {\n        name\n        kind\n        score\n        pValue\n        drifted\n        unseenShare\n        detail\n        distribution {\n          bin\n          training\n          live\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardDrift($model: String!) {\n    drift(model: $model) {\n      model\n      version\n      drifted\n      windowSize\n      referenceSize\n      features {\n        name\n        kind\n        score\n        pValue\n        drifted\n        unseenShare\n        detail\n        distribution {\n          bin\n          training\n          live\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardDriftHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    driftHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      version\n      drifted\n      windowSize\n      features {\n        name\n        kind\n        score\n        drifted\n        unseenShare\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardDriftHistory($model: String!, $from: DateTime!, $to: DateTime!) {\n    driftHistory(model: $model, from: $from, to: $to) {\n      start\n      end\n      version\n      drifted\n      windowSize\n      features {\n        name\n        kind\n        score\n        drifted\n        unseenShare\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardMonitoringLinks {\n    monitoringLinks {\n      prometheus\n      grafana\n      mlflow\n    }\n  }\n"): (typeof documents)["\n  query DashboardMonitoringLinks {\n    monitoringLinks {\n      prometheus\n      grafana\n      mlflow\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;