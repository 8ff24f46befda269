import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { costIgnoresVariables } from './query-limits.js';

const schema = buildSchema(/* GraphQL */ `
  scalar JSON
  input FraudInput { amount: Float! tags: [String!] }
  input PredictInput @oneOf { fraud: FraudInput }
  type Prediction { id: ID! label: String! }
  type Query { predictions(limit: Int, ids: [ID!]): [Prediction!]! priced(window: Int): Int raw(value: JSON): Int one(id: ID!): Prediction }
  type Mutation { predict(input: PredictInput!): Prediction! predictBatch(inputs: [PredictInput!]!): [Prediction!]! }
`);
// A field priced by a function of its arguments (as `extensions.complexity` in the Pothos schema).
schema.getQueryType()!.getFields().priced!.extensions = { complexity: (args: { window?: number }) => args.window ?? 1 };

const ignores = (document: string) => costIgnoresVariables(schema, parse(document));

describe(costIgnoresVariables.name, () => {
  it('holds for documents whose variables cannot change a list size or a price', () => {
    expect(ignores('mutation($input: PredictInput!) { predict(input: $input) { id label } }')).toBe(true);
    expect(ignores('query($id: ID!) { one(id: $id) { id } predictions(limit: 5, ids: ["a", "b"]) { id } }')).toBe(true);
    expect(ignores('{ predictions { id } priced(window: 3) }')).toBe(true);
  });

  it('fails for list arguments, limits, custom scalars, priced fields and directives given by variables', () => {
    expect(ignores('mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }')).toBe(false);
    expect(ignores('query($n: Int) { predictions(limit: $n) { id } }')).toBe(false);
    expect(ignores('query($ids: [ID!]) { predictions(ids: $ids) { id } }')).toBe(false);
    expect(ignores('query($v: JSON) { raw(value: $v) }')).toBe(false);
    expect(ignores('query($w: Int) { priced(window: $w) }')).toBe(false);
    expect(ignores('query($yes: Boolean!) { predictions { id label @include(if: $yes) } }')).toBe(false);
  });
});
