import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { webhookRefusal } from '../access/webhook-access.js';
import type { SignatureCheck } from '../alerts/webhook-auth.js';
import type { Context, Services } from '../graphql/context.js';
import { createMaskError, useInputErrorCodes, useNoIntrospection } from '../graphql/errors.js';
import { createLoaderFactory } from '../graphql/loaders.js';
import { useQueryLimits } from '../graphql/query-limits.js';
import { useResultCounter, type AnswerCodes } from '../graphql/result-counter.js';
import type { Logger } from '../logger.js';
import { PLAYGROUND_QUERY, renderPlayground } from './playground.js';

/**
 * What the transports hand the GraphQL layer besides the request. Server context, so nothing a
 * client sends (no header, no connection parameter) can set it.
 */
export interface RelearnServerContext {
  /** Grafana's signature over the raw body, checked by the HTTP layer (absent: not signed). */
  signature?: SignatureCheck;
  /** graphql-ws: the credentials of the socket (upgrade request header or connectionParams). */
  authorization?: string | null;
}

export type RelearnYoga = YogaServerInstance<RelearnServerContext, Context>;

export function createGraphQLServer(options: {
  schema: GraphQLSchema;
  services: Services;
  webhookTokenSet: boolean;
  webhookHmacSecret: string | null;
  /** Off: introspection queries (__schema, __type) are refused, over HTTP and graphql-ws alike. */
  introspection: boolean;
  logger: Logger;
  /** Told the error codes of every answer sent over HTTP (the Prometheus error counters). */
  onAnswer?: (codes: AnswerCodes) => void;
}): RelearnYoga {
  const { schema, services, webhookTokenSet, webhookHmacSecret, logger } = options;
  const yogaLogger = logger.child({ component: 'graphql' });
  const loaders = createLoaderFactory(services);
  return createYoga<RelearnServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Served from Relearn's own files (playground.ts): the playground works with no internet.
    graphiql: { title: 'Relearn GraphQL playground', subscriptionsProtocol: 'WS', defaultQuery: PLAYGROUND_QUERY },
    renderGraphiQL: renderPlayground,
    // One path for HTTP and graphql-ws: the same credentials give the same caller.
    context: async ({ request, signature, authorization: socketAuthorization }) => {
      const authorization = socketAuthorization !== undefined ? socketAuthorization : (request?.headers.get('authorization') ?? null);
      const caller = await services.access.authenticate(authorization);
      const refusal = webhookRefusal({
        caller,
        authorizationSent: Boolean(authorization),
        signature,
        webhookTokenSet,
        hmacRequired: webhookHmacSecret !== null,
      });
      return { services, ...caller, admin: caller.principal?.scopes.has('ADMIN') ?? false, webhookRefusal: refusal, loaders: loaders() };
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
      ...(options.introspection ? [] : [useNoIntrospection()]),
      // Abuse limits: huge, deep, aliased or costly documents are refused before execution.
      ...useQueryLimits(),
      ...(options.onAnswer ? [useResultCounter(options.onAnswer)] : []),
    ],
  });
}
