import SchemaBuilder from '@pothos/core';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { Context } from './context.js';

export type Builder = ReturnType<typeof createBuilder>;

/**
 * Plugins, scalars, context and the empty root types. A new builder per schema because the
 * task inputs are generated from the task definitions this deployment loads.
 */
export function createBuilder() {
  const builder = new SchemaBuilder<{
    Context: Context;
    Scalars: { DateTime: { Input: Date; Output: Date | string }; JSON: { Input: unknown; Output: unknown } };
    DefaultFieldNullability: false;
  }>({ defaultFieldNullability: false });
  builder.addScalarType('DateTime', DateTimeResolver);
  builder.addScalarType('JSON', JSONResolver);
  builder.queryType({});
  builder.mutationType({});
  builder.subscriptionType({});
  return builder;
}
