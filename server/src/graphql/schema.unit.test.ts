import { readFile } from 'node:fs/promises';
import { buildSchema as buildFromSDL, type GraphQLNamedType, isInputObjectType, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { TaskRegistry } from '../tasks/task-registry.js';
import { buildSchema, printSchemaSDL } from './schema.js';

const schemaFile = new URL('../../../schema/schema.graphql', import.meta.url);

/** The core contract: these names and shapes must exist; more may be added, nothing renamed. */
const CONTRACT = /* GraphQL */ `
  scalar DateTime
  input FraudInput { amount: Float! hour: Int! dayOfWeek: Int! merchantCategory: String! previousAmount: Float! timeSinceLast: Float! }
  input SpamInput { text: String! }
  input PredictInput @oneOf { fraud: FraudInput spam: SpamInput }
  type ClassScore { label: String! probability: Float! }
  type Prediction { id: ID! model: String! label: String! probability: Float! scores: [ClassScore!]! modelVersion: ModelVersion! createdAt: DateTime! }
  input FeedbackInput { predictionId: ID! correct: Boolean actual: String idempotencyKey: String }
  type Feedback { id: ID! prediction: Prediction! actual: String! correct: Boolean! createdAt: DateTime! }
  type Confusion { tp: Int! tn: Int! fp: Int! fn: Int! }
  type ModelMetrics { model: String! accuracy: Float precision: Float recall: Float f1: Float confusion: Confusion! predictionCount: Int! feedbackCount: Int! liveVersion: ModelVersion }
  enum ModelVersionStatus { LIVE }
  input MetricsWindow { lastFeedback: Int }
  type ModelVersion { version: Int! status: ModelVersionStatus! createdAt: DateTime! trainingMetrics: ModelMetrics }
  type Query { metrics(model: String!, window: MetricsWindow): ModelMetrics!  modelVersions(model: String!): [ModelVersion!]! }
  type Mutation { predict(input: PredictInput!): Prediction!  submitFeedback(input: FeedbackInput!): Feedback!  activateModelVersion(model: String!, version: Int!): ModelVersion! }
  type Subscription { metricsUpdated(model: String!): ModelMetrics! }
`;

describe('GraphQL schema', () => {
  it('is printed to schema/schema.graphql and the file is not stale (run `npm run schema:print`)', async () => {
    const printed = printSchemaSDL(buildSchema(await TaskRegistry.load()));
    expect(await readFile(schemaFile, 'utf8')).toBe(printed);
  });

  it('keeps every name and shape of the core contract', async () => {
    const schema = buildFromSDL(await readFile(schemaFile, 'utf8'));
    const contract = buildFromSDL(CONTRACT);
    const typeString = (t: { type: unknown }) => String(t.type);
    for (const expected of Object.values(contract.getTypeMap()).filter((t: GraphQLNamedType) => !t.name.startsWith('__'))) {
      const actual = schema.getType(expected.name);
      expect(actual, expected.name).toBeDefined();
      if (isObjectType(expected) || isInputObjectType(expected)) {
        const fields = (actual as typeof expected).getFields() as Record<string, any>;
        for (const [name, field] of Object.entries(expected.getFields()) as [string, any][]) {
          expect(fields[name], `${expected.name}.${name}`).toBeDefined();
          expect(typeString(fields[name]), `${expected.name}.${name}`).toBe(typeString(field));
          for (const arg of field.args ?? []) {
            const actualArg = fields[name].args.find((a: any) => a.name === arg.name);
            expect(actualArg && String(actualArg.type), `${expected.name}.${name}(${arg.name})`).toBe(String(arg.type));
          }
        }
      }
    }
    expect(schema.getType('PredictInput')!.astNode?.directives?.map((d) => d.name.value)).toContain('oneOf');
  });
});
