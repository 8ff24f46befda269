import type { Plugin } from 'graphql-yoga';

/** The codes of a GraphQL answer's errors (empty: it succeeded). */
export type AnswerCodes = readonly string[];

/**
 * Reports each GraphQL answer sent over HTTP, on the yoga path and the lean path alike (both run
 * onResultProcess hooks): the `extensions.code` of each of its errors, so a dashboard can show an
 * error rate by code. Runs after masking, so an unexpected error counts as what the client saw.
 * Streams (subscriptions over SSE, incremental delivery) are not counted: they have no one answer.
 */
export function useResultCounter(onAnswer: (codes: AnswerCodes) => void): Plugin {
  return {
    onResultProcess({ result }) {
      const results = Array.isArray(result) ? result : [result];
      for (const r of results) {
        if (!r || typeof r !== 'object' || Symbol.asyncIterator in r) continue;
        const errors = (r as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors ?? [];
        onAnswer(errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'UNCODED')));
      }
    },
  };
}
