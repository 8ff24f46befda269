import { timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError, type Plugin } from 'graphql-yoga';
import { ConflictError } from '../feedback/feedback-service.js';
import { NotFoundError } from '../models/model-service.js';
import { ModelNotReadyError, UnknownModelError } from '../predictions/prediction-service.js';
import { InvalidInputError } from '../tasks/task.js';
import type { Logger } from '../logger.js';

export class UnauthenticatedError extends Error {
  override name = 'UnauthenticatedError';
}

/** The one place domain errors become GraphQL error codes; anything else is masked. */
export function toClientError(error: Error): GraphQLError | null {
  if (error instanceof InvalidInputError) {
    const first = error.problems[0]!;
    return new GraphQLError(`Invalid input: ${error.message}`, {
      extensions: { code: 'BAD_USER_INPUT', field: first.field, reason: first.reason, problems: error.problems },
    });
  }
  if (error instanceof UnknownModelError) {
    return new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', field: 'model', reason: error.message } });
  }
  if (error instanceof NotFoundError) return new GraphQLError(error.message, { extensions: { code: 'NOT_FOUND' } });
  if (error instanceof ConflictError) return new GraphQLError(error.message, { extensions: { code: 'CONFLICT' } });
  if (error instanceof UnauthenticatedError) {
    return new GraphQLError(error.message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
  if (error instanceof ModelNotReadyError) {
    return new GraphQLError(error.message, { extensions: { code: 'MODEL_NOT_READY', http: { status: 503 } } });
  }
  if (isDatabaseUnavailable(error)) {
    // Socket errors say nothing of which backing service failed (PostgreSQL, MinIO, MLflow): all are retryable.
    return new GraphQLError('the database (or another backing service) is unavailable; retry shortly (feedback: with the same idempotencyKey)', {
      extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true, http: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } } },
    });
  }
  return null;
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
      const mapped = toClientError(original);
      if (mapped) {
        return new GraphQLError(mapped.message, {
          ...(error instanceof GraphQLError ? { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path } : {}),
          extensions: mapped.extensions,
        });
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
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', limit, ...details, http: { status: 400 } } });
}

export function requireAdmin(admin: boolean): void {
  if (!admin) throw new UnauthenticatedError('this operation needs the admin token: send "Authorization: Bearer <ADMIN_TOKEN>"');
}

/** True when the header is `Bearer <token>` (compared in constant time). */
export function isAdminToken(header: string | null | undefined, adminToken: string): boolean {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const expected = Buffer.from(adminToken);
  return given.length === expected.length && timingSafeEqual(given, expected);
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
