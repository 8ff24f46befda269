import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

export interface RelearnClientOptions {
  /** Page origin, e.g. http://127.0.0.1:4000 (the API server or Vite's dev server, which proxies). */
  origin: string;
  /** The admin token to send, read at each request (empty: none). */
  adminToken: () => string;
  onConnected?: () => void;
  onClosed?: () => void;
  onConnecting?: () => void;
}

/** 0.5 s, 1 s, 2 s ... capped at 10 s, with jitter so many tabs do not reconnect in step. */
export function reconnectDelayMs(retries: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** retries);
  return Math.round(base * (0.75 + random() * 0.5));
}

export function websocketUrl(origin: string): string {
  const url = new URL('/graphql', origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * One urql client: queries and mutations over HTTP, subscriptions over one graphql-ws socket
 * that reconnects forever. No document cache: every figure shown comes from the server or a push.
 */
export function createRelearnClient(options: RelearnClientOptions): { client: Client; ws: WsClient } {
  const authHeaders = (): Record<string, string> => {
    const token = options.adminToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  const ws = createWsClient({
    url: websocketUrl(options.origin),
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(retries))),
    connectionParams: () => authHeaders(),
    on: {
      connecting: () => options.onConnecting?.(),
      connected: () => options.onConnected?.(),
      closed: () => options.onClosed?.(),
    },
  });
  const client = new Client({
    url: new URL('/graphql', options.origin).toString(),
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: () => ({ headers: authHeaders() }),
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, ws };
}
