import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { ADMIN_PRINCIPAL } from '../access/principal.js';
import type { SignatureCheck } from '../alerts/webhook-auth.js';
import type { Context, Services } from '../graphql/context.js';
import { createMaskError, isAdminToken, useInputErrorCodes } from '../graphql/errors.js';
import { createLoaderFactory } from '../graphql/loaders.js';
import { useQueryLimits } from '../graphql/query-limits.js';
import type { Logger } from '../logger.js';

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
  adminToken: string;
  webhookToken: string | null;
  webhookHmacSecret: string | null;
  logger: Logger;
}): RelearnYoga {
  const { schema, services, adminToken, webhookToken, webhookHmacSecret, logger } = options;
  const yogaLogger = logger.child({ component: 'graphql' });
  const loaders = createLoaderFactory(services);
  /** Why a request is not an authorised alert webhook, naming the check that failed. */
  const webhookRefusal = (authorization: string | null, bearerOk: boolean, signature: SignatureCheck | undefined): string | null => {
    if (!bearerOk) {
      const what = webhookToken ? '<WEBHOOK_TOKEN>' : '<ADMIN_TOKEN> (no WEBHOOK_TOKEN is set)';
      return authorization
        ? `alert webhooks need "Authorization: Bearer ${what}": the token given is not it`
        : `alert webhooks need "Authorization: Bearer ${what}": none was given`;
    }
    if (webhookHmacSecret === null) return null;
    if (!signature) return "alert webhooks need Grafana's X-Grafana-Alerting-Signature (WEBHOOK_HMAC_SECRET is set)";
    return signature.ok ? null : signature.reason;
  };
  return createYoga<RelearnServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Relearn', subscriptionsProtocol: 'WS' },
    context: ({ request, signature, authorization: socketAuthorization }) => {
      const authorization = socketAuthorization !== undefined ? socketAuthorization : (request?.headers.get('authorization') ?? null);
      const admin = isAdminToken(authorization, adminToken);
      const bearer = admin || (webhookToken !== null && isAdminToken(authorization, webhookToken));
      const refusal = webhookRefusal(authorization, bearer, signature);
      return { services, admin, principal: admin ? ADMIN_PRINCIPAL : null, webhookRefusal: refusal, loaders: loaders() };
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
      // Abuse limits: huge, deep, aliased or costly documents are refused before execution.
      ...useQueryLimits(),
    ],
  });
}
