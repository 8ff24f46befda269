import { CombinedError } from '@urql/core';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { reconnectDelayMs, websocketUrl } from './client.js';
import { describeError, errorList, errorsByField } from './errors.js';

const known = ['amount', 'hour', 'merchantCategory'];

describe('errorsByField', () => {
  it('puts every problem of an invalid input next to its field', () => {
    const split = errorsByField(
      [
        {
          message: 'Invalid input: amount: must be > 0; hour: must be <= 23',
          extensions: {
            code: 'BAD_USER_INPUT',
            field: 'amount',
            reason: 'must be > 0',
            problems: [
              { field: 'amount', reason: 'must be > 0' },
              { field: 'hour', reason: 'must be <= 23' },
            ],
          },
        },
      ],
      known,
    );
    expect(split).toEqual({ fields: { amount: 'must be > 0', hour: 'must be <= 23' }, general: null });
  });

  it('reads a field path from graphql-js variable errors, and keeps unknown fields general', () => {
    const split = errorsByField(
      [
        {
          message: 'Variable "$input" got invalid value',
          extensions: { code: 'BAD_USER_INPUT', field: 'input.fraud.hour', reason: 'Int cannot represent 3.5' },
        },
        { message: 'Model "x" is not served', extensions: { code: 'BAD_USER_INPUT', field: 'model', reason: 'unknown' } },
        { message: 'Something else' },
      ],
      known,
    );
    expect(split.fields).toEqual({ hour: 'Int cannot represent 3.5' });
    expect(split.general).toBe('Model "x" is not served\nSomething else');
  });

  it('describes refused admin operations and network errors', () => {
    const unauth = new CombinedError({ graphQLErrors: [new GraphQLError('admin token required', { extensions: { code: 'UNAUTHENTICATED' } })] });
    expect(describeError(unauth)).toBe('Not allowed: admin token required (check the admin token)');
    const network = new CombinedError({ networkError: new Error('Failed to fetch') });
    expect(errorList(network)).toEqual([{ message: 'Network error: Failed to fetch' }]);
    expect(describeError(undefined)).toBeNull();
  });
});

describe('the client', () => {
  it('reconnects with a capped, jittered exponential backoff', () => {
    expect([0, 1, 2, 3, 10].map((n) => reconnectDelayMs(n, () => 0.5))).toEqual([500, 1000, 2000, 4000, 10_000]);
    expect(reconnectDelayMs(0, () => 0)).toBe(375);
    expect(reconnectDelayMs(20, () => 1)).toBe(12_500);
  });

  it('derives the websocket URL from the page origin', () => {
    expect(websocketUrl('http://127.0.0.1:4000')).toBe('ws://127.0.0.1:4000/graphql');
    expect(websocketUrl('https://relearn.example')).toBe('wss://relearn.example/graphql');
  });
});
