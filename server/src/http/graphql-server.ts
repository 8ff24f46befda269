import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Context, Services } from '../graphql/context.js';
import { createMaskError, isAdminToken, useInputErrorCodes } from '../graphql/errors.js';
import type { Logger } from '../logger.js';

export type RelearnYoga = YogaServerInstance<Record<string, unknown>, Context>;

/**
 * Set by the HTTP layer after it checked Grafana's signature over the raw body (`valid` or
 * `invalid`); stripped from every incoming request so a client cannot claim it.
 */
export const SIGNATURE_CHECK_HEADER = 'x-relearn-signature-check';

export function createGraphQLServer(options: {
  schema: GraphQLSchema;
  services: Services;
  adminToken: string;
  webhookToken: string | null;
  webhookHmacSecret: string | null;
  logger: Logger;
}): RelearnYoga {
  const { schema, services, adminToken, webhookToken, webhookHmacSecret, logger } = options;
  const yogaLogger = logger.child({ component: 'graphql' });
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Relearn', subscriptionsProtocol: 'WS' },
    context: ({ request }) => {
      const authorization = request.headers.get('authorization');
      const admin = isAdminToken(authorization, adminToken);
      const bearer = admin || (webhookToken !== null && isAdminToken(authorization, webhookToken));
      const signed = webhookHmacSecret === null || request.headers.get(SIGNATURE_CHECK_HEADER) === 'valid';
      return { services, admin, webhook: bearer && signed };
    },
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
