/**
 * The one error type services and the HTTP layer throw for what a client did or may retry, with a
 * closed set of codes. Mapped once: to a GraphQL error in graphql/errors.ts, to a JSON answer in
 * http/http-server.ts, both through `httpStatusOf`. Anything that is not an AppError is a bug and
 * is masked. A leaf module (it imports nothing) so that every layer may throw it.
 */

export type ErrorCode =
  /** Bad arguments: `field` and `reason` name the first problem, `problems` lists every one. */
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  /** The same thing cannot be taken twice with different content (idempotency key, answered prediction). */
  | 'CONFLICT'
  /** No credentials, or credentials that are not (or no longer) valid. */
  | 'UNAUTHENTICATED'
  /** Valid credentials without the scope the operation needs (`scope` names it). */
  | 'FORBIDDEN'
  /** Too many requests of this principal: `retryAfterSeconds` says when to try again. */
  | 'RATE_LIMITED'
  | 'MODEL_NOT_READY'
  /** A backing service (PostgreSQL, MinIO, MLflow) is away: retry, with the same idempotency key. */
  | 'SERVICE_UNAVAILABLE'
  /** A GraphQL document over one of the limits of graphql/query-limits.ts (`limit` says which). */
  | 'QUERY_TOO_COMPLEX'
  | 'PAYLOAD_TOO_LARGE';

/** One reason an input was refused, named by its field path (e.g. `fraud.hour`). */
export interface InputProblem {
  field: string;
  reason: string;
}

/** Extension fields beside `code` (serialised as they are: keep them JSON). */
export type ErrorDetails = Record<string, unknown>;

export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** What the client sees beside the code (`extensions` in GraphQL, fields of the JSON body over HTTP). */
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The refused input, every problem at once (the message lists them all). */
  static badInput(problems: readonly InputProblem[]): AppError {
    const first = problems[0] ?? { field: '(input)', reason: 'is invalid' };
    const list = problems.length ? [...problems] : [first];
    return new AppError('BAD_USER_INPUT', list.map((p) => `${p.field}: ${p.reason}`).join('; '), { field: first.field, reason: first.reason, problems: list });
  }

  /** The problems of a BAD_USER_INPUT (empty for other codes). */
  get problems(): InputProblem[] {
    return this.code === 'BAD_USER_INPUT' ? ((this.details.problems as InputProblem[] | undefined) ?? []) : [];
  }

  /** Seconds a client should wait before retrying (RATE_LIMITED, SERVICE_UNAVAILABLE), else null. */
  get retryAfterSeconds(): number | null {
    const seconds = this.details.retryAfterSeconds;
    return typeof seconds === 'number' ? seconds : null;
  }
}

/** True when `error` is an AppError (of one of `codes`, when given). */
export function isAppError(error: unknown, ...codes: ErrorCode[]): error is AppError {
  return error instanceof AppError && (codes.length === 0 || codes.includes(error.code));
}

/**
 * The HTTP status of a code. GraphQL answers carry it only where the whole request failed for it
 * (credentials, limits, availability); field errors such as BAD_USER_INPUT stay 200 with `errors`,
 * as GraphQL over HTTP has them.
 */
export function httpStatusOf(code: ErrorCode): number | null {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'RATE_LIMITED':
      return 429;
    case 'MODEL_NOT_READY':
    case 'SERVICE_UNAVAILABLE':
      return 503;
    case 'QUERY_TOO_COMPLEX':
      return 400;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'CONFLICT':
      return null;
  }
}

/** The status a plain JSON endpoint (webhooks) answers an AppError with: always one. */
export function plainHttpStatusOf(code: ErrorCode): number {
  return httpStatusOf(code) ?? (code === 'NOT_FOUND' ? 404 : code === 'CONFLICT' ? 409 : 400);
}
