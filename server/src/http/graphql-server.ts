import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Context, Services } from '../graphql/context.js';
import { createMaskError, isAdminToken, useInputErrorCodes } from '../graphql/errors.js';
import type { Logger } from '../logger.js';

export type RelearnYoga = YogaServerInstance<Record<string, unknown>, Context>;

export function createGraphQLServer(options: {
  schema: GraphQLSchema;
  services: Services;
  adminToken: string;
  logger: Logger;
}): RelearnYoga {
  const { schema, services, adminToken, logger } = options;
  const yogaLogger = logger.child({ component: 'graphql' });
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Relearn', subscriptionsProtocol: 'WS' },
    context: ({ request }) => ({
      services,
      admin: isAdminToken(request.headers.get('authorization'), adminToken),
    }),
    maskedErrors: { maskError: createMaskError(logger) },
    logging: {
      debug: (...args) => yogaLogger.debug(args.map(String).join(' ')),
      info: (...args) => yogaLogger.info(args.map(String).join(' ')),
      warn: (...args) => yogaLogger.warn(args.map(String).join(' ')),
      // Yoga reports every client error here; unexpected ones are logged by maskError instead.
      error: (...args) => yogaLogger.debug(args.map(String).join(' ')),
    },
    plugins: [
      useInputErrorCodes(),
      // Abuse limits: deep, aliased, costly or huge documents are refused before execution.
      EnvelopArmorPlugin({
        maxDepth: { n: 8 },
        maxAliases: { n: 20 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 5000 },
        costLimit: { maxCost: 20_000 },
      }),
    ],
  });
}
