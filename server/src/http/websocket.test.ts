import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_TOKEN, aFraudInput, PREDICT_FRAUD, startTestApp, type TestApp } from '../../test/test-app.js';

const WEBHOOK_TOKEN = 'ws-webhook-token-0123456789abcdef';

/** One operation over a graphql-ws client: its single result, or the error the socket gave. */
function once(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    let result: unknown;
    client.subscribe(
      { query, variables },
      {
        next: (r) => (result = r),
        error: (e) => (Array.isArray(e) ? resolve({ errors: e.map((x: any) => ({ message: x.message, extensions: x.extensions })) }) : reject(e)),
        complete: () => resolve(result),
      },
    );
  });
}

describe('GraphQL over graphql-ws', () => {
  let sut: TestApp;
  const clients: Client[] = [];
  const client = (options: { connectionParams?: Record<string, unknown>; headers?: Record<string, string> } = {}) => {
    const port = new URL(sut.url).port;
    const c = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      retryAttempts: 0,
      ...(options.connectionParams ? { connectionParams: options.connectionParams } : {}),
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers: options.headers ?? {} });
        }
      },
    });
    clients.push(c);
    return c;
  };
  const ACTIVATE = `mutation($m: String!, $v: Int!) { activateModelVersion(model: $m, version: $v, reason: "ws test") { version status } }`;

  beforeAll(async () => {
    sut = await startTestApp({ env: { TRAINER: 'off', WEBHOOK_TOKEN } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await sut?.stop();
  });

  it('runs mutations: predict, then feedback on it', async () => {
    const ws = client();
    const predicted = await once(ws, PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(predicted.errors).toBeUndefined();
    const id = predicted.data.predict.id;
    const fb = await once(ws, `mutation($i: FeedbackInput!) { submitFeedback(input: $i) { id correct } }`, { i: { predictionId: id, correct: true } });
    expect(fb.errors).toBeUndefined();
    expect(fb.data.submitFeedback.correct).toBe(true);
  });

  it("authorises admin mutations like HTTP: the dashboard's connectionParams, a token param, or the upgrade header", async () => {
    const refused = await once(client(), ACTIVATE, { m: 'spam', v: 1 });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrong = await once(client({ connectionParams: { authorization: 'Bearer not-the-admin-token-000' } }), ACTIVATE, { m: 'spam', v: 1 });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const ws of [
      client({ connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      client({ connectionParams: { token: ADMIN_TOKEN } }),
      client({ headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    ]) {
      const ok = await once(ws, ACTIVATE, { m: 'spam', v: 1 });
      expect(ok.errors).toBeUndefined();
      expect(ok.data.activateModelVersion).toEqual({ version: 1, status: 'LIVE' });
    }
  });

  it('applies the same limits and codes, and keeps the socket open after a refusal', async () => {
    const ws = client();
    const big = await once(ws, `{ models { ${'name '.repeat(4800)} } }`);
    expect(big.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'fields' });
    const costly = await once(
      ws,
      `{ ${Array.from({ length: 20 }, (_, i) => `m${i}: metrics(model: "spam", window: { lastFeedback: ${i + 1} }) { accuracy }`).join(' ')} }`,
    );
    expect(costly.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    const deepSubscription = await once(
      ws,
      `subscription { metricsUpdated(model: "spam") { liveVersion { liveMetrics { liveVersion { liveMetrics { liveVersion { liveMetrics { liveVersion { version } } } } } } } } }`,
    );
    expect(deepSubscription.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
    const broken = await once(ws, `{ models { name `);
    expect(broken.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const bad = await once(ws, PREDICT_FRAUD, { input: { fraud: aFraudInput({ amount: -5 }) } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.extensions?.field).toMatch(/amount$/);
    const after = await once(ws, `{ models { name } }`);
    expect(after.data.models.map((m: any) => m.name).sort()).toEqual(['fraud', 'spam']);
  });

  it('takes alert webhooks with the webhook token, and says which credential is missing', async () => {
    // No HMAC secret here: the webhook token over a socket is a webhook caller (see alert-webhook.test.ts for HMAC).
    const input = { source: 'alertmanager', status: 'resolved', alerts: [{ status: 'resolved', fingerprint: 'ws-1', labels: { model: 'spam' } }] };
    const handle = `mutation($i: AlertInput!) { handleAlert(input: $i) { accepted } }`;
    const ok = await once(client({ connectionParams: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'x-relearn-signature-check': 'valid' } }), handle, {
      i: input,
    });
    expect(ok.errors).toBeUndefined();
    const none = await once(client({ headers: { 'x-relearn-signature-check': 'valid' } }), handle, { i: input });
    expect(none.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(none.errors?.[0]?.message).toMatch(/none was given/);
  });
});
