import type { CombinedError } from '@urql/core';

export interface FieldErrors {
  /** Messages by input field name (a fraud feature, `text`, ...). */
  fields: Record<string, string>;
  /** What could not be attached to a field. */
  general: string | null;
}

interface ErrorLike {
  message: string;
  extensions?: Record<string, unknown> | undefined;
}

/**
 * Splits GraphQL errors into messages next to the fields they name (BAD_USER_INPUT carries
 * `extensions.field`, a path such as `input.fraud.amount` or a bare name, and `reason`) and the rest.
 */
export function errorsByField(errors: readonly ErrorLike[], knownFields: readonly string[]): FieldErrors {
  const fields: Record<string, string> = {};
  const general: string[] = [];
  for (const error of errors) {
    const ext = error.extensions ?? {};
    // InvalidInputError lists every problem; graphql-js variable errors name one field.
    const problems = Array.isArray(ext.problems) && ext.problems.length ? (ext.problems as unknown[]) : [ext];
    let attached = false;
    for (const problem of problems) {
      const { field, reason } = (problem ?? {}) as { field?: unknown; reason?: unknown };
      const name =
        typeof field === 'string'
          ? field
              .split('.')
              .reverse()
              .find((part) => knownFields.includes(part))
          : undefined;
      if (!name) continue;
      const text = typeof reason === 'string' && reason ? reason : error.message;
      fields[name] = fields[name] ? `${fields[name]}; ${text}` : text;
      attached = true;
    }
    if (!attached) general.push(error.message);
  }
  return { fields, general: general.length ? general.join('\n') : null };
}

/** The errors of an urql result: GraphQL errors as they are, a network error as one message. */
export function errorList(error: CombinedError | undefined): ErrorLike[] {
  if (!error) return [];
  if (error.graphQLErrors.length) return error.graphQLErrors;
  return [{ message: error.networkError ? `Network error: ${error.networkError.message}` : error.message }];
}

/** One line for a failed operation, saying when the admin token was refused. */
export function describeError(error: CombinedError | undefined): string | null {
  if (!error) return null;
  const first = error.graphQLErrors[0];
  const code = first?.extensions?.code;
  if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') return `Not allowed: ${first!.message} (check the admin token)`;
  return errorList(error)
    .map((e) => e.message)
    .join('; ');
}
