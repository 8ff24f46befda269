import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { maskError as yogaMaskError, type Plugin } from 'graphql-yoga';
import { AppError, httpStatusOf } from '../shared/app-error.js';
import type { Logger } from '../logger.js';

/**
 * The one place errors become GraphQL errors: an AppError keeps its code and details (plus the
 * HTTP status of its code), a database that cannot be reached is SERVICE_UNAVAILABLE; anything
 * else is masked.
 */
export function toClientError(error: Error): GraphQLError | null {
  const appError = clientErrorOf(error);
  return appError ? toGraphQLError(appError) : null;
}

/** What a client may be told of `error`: null when it is a bug (masked). Used by the HTTP routes too. */
export function clientErrorOf(error: Error): AppError | null {
  if (error instanceof AppError) return error;
  return isDatabaseUnavailable(error) ? serviceUnavailable(error) : null;
}

/** An AppError as GraphQL sends it: `extensions` holds the code, its details and its HTTP answer. */
export function toGraphQLError(error: AppError, location?: Pick<GraphQLError, 'nodes' | 'source' | 'positions' | 'path'>): GraphQLError {
  const status = httpStatusOf(error.code);
  const retryAfter = error.retryAfterSeconds;
  const http = status === null ? {} : { http: { status, ...(retryAfter !== null ? { headers: { 'Retry-After': String(retryAfter) } } : {}) } };
  const message = error.code === 'BAD_USER_INPUT' ? `Invalid input: ${error.message}` : error.message;
  return new GraphQLError(message, { ...location, extensions: { code: error.code, ...error.details, ...http } });
}

/** Socket errors say nothing of which backing service failed (PostgreSQL, MinIO, MLflow): all are retryable. */
function serviceUnavailable(cause: Error): AppError {
  return new AppError(
    'SERVICE_UNAVAILABLE',
    'the database (or another backing service) is unavailable; retry shortly (feedback: with the same idempotencyKey)',
    { retryable: true, retryAfterSeconds: RETRY_AFTER_SECONDS },
    { cause },
  );
}

/** What clients are told to wait before retrying while PostgreSQL is away (a restart takes seconds). */
const RETRY_AFTER_SECONDS = 2;

/**
 * SQLSTATEs and socket errors of a database that is away (restarting, failing over, unreachable),
 * not of a bad statement: 08xxx connection exceptions, 57P01-57P03 shutdown / crash / cannot
 * connect now, 53300 too many connections.
 */
const UNAVAILABLE_CODES = /^(08...|57P0[123]|53300|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/;
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused|the database system is (starting up|shutting down|in recovery mode)/i;

/** True when `error` (or what it wraps) says the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) return true;
  if (UNAVAILABLE_MESSAGES.test(error.message)) return true;
  if (error instanceof AggregateError && error.errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(error.cause, depth + 1);
}

/** The error a resolver threw, under the GraphQLError wrappers of graphql-js and the executor. */
function thrownBy(error: unknown): unknown {
  let e = error;
  while (e instanceof Error && e.name === 'GraphQLError' && (e as GraphQLError).originalError) e = (e as GraphQLError).originalError;
  return e;
}

export function createMaskError(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = thrownBy(error);
    if (original instanceof Error && original.name !== 'GraphQLError') {
      const appError = clientErrorOf(original);
      if (appError) {
        return toGraphQLError(
          appError,
          error instanceof GraphQLError ? { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path } : undefined,
        );
      }
      logger.error({ err: original }, 'unexpected error in a resolver');
    }
    return yogaMaskError(error, message, isDev);
  };
}

/** Which of the document limits (graphql/query-limits.ts) a refused document went over. */
export type QueryLimit = 'tokens' | 'fields' | 'depth' | 'aliases' | 'directives' | 'cost';

/**
 * A document refused before execution for its size or cost: one code for every such limit
 * (like GRAPHQL_VALIDATION_FAILED), `limit` says which, HTTP 400.
 */
export function queryTooComplex(limit: QueryLimit, message: string, details: { max: number; cost?: number }): GraphQLError {
  return toGraphQLError(new AppError('QUERY_TOO_COMPLEX', message, { limit, ...details }));
}

/**
 * Refuses introspection (`__schema`, `__type`) with graphql-js's own rule, at validation: it
 * applies to graphql-ws too, which @graphql-yoga/plugin-disable-introspection (keyed by the
 * fetch Request) would not see.
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/**
 * graphql-js reports bad variable values (wrong scalar, @oneOf with two members, a missing
 * required field) without a code; they are the client's input errors like any other.
 */
export function useInputErrorCodes(): Plugin {
  return {
    onExecutionResult({ result, setResult }) {
      if (!result || !('errors' in result) || !result.errors?.length) return;
      const errors = result.errors.map((e) => {
        const m =
          /^Variable "\$[^"]+" got invalid value .*?(?: at "([^"]+)")?; (.*)$/s.exec(e.message) ??
          // A required variable left out or null: the variable is the field.
          /^Variable "\$([^"]+)" of (?:required|non-null) type "[^"]+" (was not provided|must not be null)\.$/s.exec(e.message);
        if (!m || e.extensions?.code) return e;
        return new GraphQLError(e.message, {
          nodes: e.nodes,
          extensions: { ...e.extensions, code: 'BAD_USER_INPUT', ...(m[1] ? { field: m[1] } : {}), reason: m[2] },
        });
      });
      setResult({ ...result, errors });
    },
  };
}
