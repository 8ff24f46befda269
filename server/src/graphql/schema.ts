import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { registerAccessSchema } from '../access/api-key.graphql.js';
import { registerAlertSchema } from '../alerts/alert.graphql.js';
import { registerAuditSchema } from '../audit/audit.graphql.js';
import { registerDriftSchema } from '../drift/drift.graphql.js';
import { registerFeedbackSchema } from '../feedback/feedback.graphql.js';
import { registerLineageSchema } from '../feedback/lineage.graphql.js';
import { registerHonestAccuracySchema } from '../metrics/honest-accuracy.graphql.js';
import { registerMetricsSchema } from '../metrics/metrics.graphql.js';
import { registerModelSchema } from '../models/model-version.graphql.js';
import { registerMonitoringLinksSchema } from '../monitoring/monitoring-links.graphql.js';
import { registerPredictionListSchema } from '../predictions/prediction-list.graphql.js';
import { registerPredictionSchema } from '../predictions/prediction.graphql.js';
import { registerRetrainSchema } from '../retraining/retrain.graphql.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { createBuilder } from './builder.js';
import { createSharedRefs } from './refs.js';

/** The schema for the tasks this deployment serves. */
export function buildSchema(tasks: TaskRegistry): GraphQLSchema {
  const builder = createBuilder();
  const refs = createSharedRefs(builder);
  const metricsRefs = registerMetricsSchema(builder, refs);
  registerModelSchema(builder, refs);
  registerPredictionSchema(builder, tasks, refs);
  registerPredictionListSchema(builder, refs);
  registerHonestAccuracySchema(builder, refs);
  registerDriftSchema(builder, metricsRefs.MetricsWindow);
  registerFeedbackSchema(builder, refs);
  registerLineageSchema(builder, refs);
  registerRetrainSchema(builder);
  registerAlertSchema(builder);
  registerAccessSchema(builder);
  registerAuditSchema(builder);
  registerMonitoringLinksSchema(builder);
  return builder.toSchema();
}

export function printSchemaSDL(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
