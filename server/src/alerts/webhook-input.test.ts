import { createHmac } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../../test/test-app.js';
import { HANDLE_ALERT } from './alert.graphql.js';

const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef';
const HMAC_SECRET = 'hmac-secret-0123456789abcdef';
const bearer = { authorization: `Bearer ${WEBHOOK_TOKEN}` };

/** The documented Alertmanager body (version 4), with the optional fields given, absent or null. */
function alertmanager(fingerprint: string, optional: 'given' | 'absent' | 'null', overrides: Record<string, unknown> = {}) {
  const opt = (value: string) => (optional === 'given' ? value : optional === 'null' ? null : undefined);
  return JSON.parse(
    JSON.stringify(
      {
        version: '4',
        groupKey: opt('{}:{alertname="X"}'),
        status: 'firing',
        receiver: 'relearn',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://alertmanager:9093',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'X', model: 'spam' },
            annotations: {},
            startsAt: opt('2026-11-23T09:00:00.123456789Z'),
            endsAt: opt('0001-01-01T00:00:00Z'),
            generatorURL: 'http://p',
            fingerprint,
            ...overrides,
          },
        ],
      },
      (_, v) => (v === undefined ? undefined : v),
    ),
  );
}
/** The documented Grafana body (version 1). */
function grafana(fingerprint: string, optional: 'given' | 'absent' | 'null', overrides: Record<string, unknown> = {}) {
  return { ...alertmanager(fingerprint, optional, overrides), version: '1', orgId: 1, title: 't', state: 'alerting', message: 'm', truncatedAlerts: 0 };
}
/** The same notification as handleAlert's input. */
function asInput(body: any) {
  return {
    source: body.version === '1' ? 'grafana' : 'alertmanager',
    status: body.status,
    ...(body.groupKey !== undefined ? { groupKey: body.groupKey } : {}),
    alerts: body.alerts.map((a: any) =>
      Object.fromEntries(Object.entries(a).filter(([k]) => ['status', 'fingerprint', 'labels', 'annotations', 'startsAt', 'endsAt'].includes(k))),
    ),
  };
}

describe('alert webhook bodies: both routes take the same bodies and name every bad field', () => {
  let sut: TestApp;
  const post = (body: unknown) =>
    fetch(`${sut.url}/webhooks/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify(body) });
  beforeAll(async () => {
    sut = await startTestApp({ env: { WEBHOOK_TOKEN, TRAINER: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('accepts the documented Alertmanager and Grafana bodies with optional fields given, absent or null, on both routes', async () => {
    let n = 0;
    for (const make of [alertmanager, grafana]) {
      for (const optional of ['given', 'absent', 'null'] as const) {
        const body = make(`ok-${n++}`, optional);
        const res = await post(body);
        expect(res.status, `${make.name} ${optional}: ${await res.clone().text()}`).toBe(200);
        const gql = await sut.gql(HANDLE_ALERT, { input: asInput(make(`ok-${n++}`, optional)) }, { token: WEBHOOK_TOKEN });
        expect(gql.errors, `${make.name} ${optional}`).toBeUndefined();
        expect(gql.data.handleAlert.accepted).toBe(true);
      }
    }
  });

  it('refuses a malformed date or field with 400 / BAD_USER_INPUT naming it, never a 500', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ startsAt: 'garbage' }, 'alerts.0.startsAt'],
      [{ endsAt: '2026-13-45T99:99:99Z' }, 'alerts.0.endsAt'],
      [{ startsAt: '275760-09-13T00:00:00Z' }, 'alerts.0.startsAt'],
      [{ startsAt: '0000-01-01T00:00:00Z' }, 'alerts.0.startsAt'],
      [{ startsAt: 12 }, 'alerts.0.startsAt'],
      [{ fingerprint: '' }, 'alerts.0.fingerprint'],
      [{ fingerprint: 'nul\u0000here' }, 'alerts.0.fingerprint'],
      [{ labels: { model: 'spam', bad: 'x\ud800' } }, 'alerts.0.labels.bad'],
      [{ labels: { model: 7 } }, 'alerts.0.labels.model'],
      [{ status: 'burning' }, 'alerts.0.status'],
    ];
    for (const [overrides, field] of bad) {
      const res = await post(alertmanager('bad-1', 'given', overrides));
      const body = await res.json();
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(body.field, JSON.stringify(overrides)).toBe(field);
      const gql = await sut.gql(HANDLE_ALERT, { input: asInput(alertmanager('bad-1', 'given', overrides)) }, { token: WEBHOOK_TOKEN });
      const e = gql.errors?.[0]?.extensions;
      expect(e?.code, JSON.stringify(overrides)).toBe('BAD_USER_INPUT');
      // GraphQL's own type check names the variable path; Relearn's names the field.
      expect(String(e?.field), JSON.stringify(overrides)).toContain(field.split('.').slice(-1)[0]);
    }
    const recorded = (await sut.gql(`{ alerts(model: "spam", limit: 500) { fingerprint } }`)).data.alerts;
    expect(recorded.map((a: any) => a.fingerprint)).not.toContain('bad-1');
  });
});

describe('alert webhooks signed by Grafana (timestamp required, the default)', () => {
  let sut: TestApp;
  const sign = (payload: string) => createHmac('sha256', HMAC_SECRET).update(payload).digest('hex');
  const send = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${sut.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer, ...headers }, body });
  const stamped = (body: string, at = Date.now()) => {
    const ts = String(Math.floor(at / 1000));
    return { 'x-grafana-alerting-signature': sign(`${ts}:${body}`), 'x-grafana-alerting-signature-timestamp': ts };
  };
  beforeAll(async () => {
    sut = await startTestApp({ env: { WEBHOOK_TOKEN, WEBHOOK_HMAC_SECRET: HMAC_SECRET, TRAINER: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('accepts a fresh signed request once and refuses its replay, on /webhooks/alerts and on /graphql', async () => {
    const body = JSON.stringify(grafana('sig-1', 'given'));
    const headers = stamped(body);
    expect((await send('/webhooks/alerts', body, headers)).status).toBe(200);
    const replay = await send('/webhooks/alerts', body, headers);
    expect(replay.status).toBe(401);
    expect((await replay.json()).error).toMatch(/replayed/);

    const gqlBody = JSON.stringify({ query: HANDLE_ALERT, variables: { input: asInput(grafana('sig-2', 'given')) } });
    const gqlHeaders = stamped(gqlBody);
    const first = (await (await send('/graphql', gqlBody, gqlHeaders)).json()) as any;
    expect(first.errors).toBeUndefined();
    const again = (await (await send('/graphql', gqlBody, gqlHeaders)).json()) as any;
    expect(again.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(again.errors?.[0]?.message).toMatch(/replayed/);
  });

  it('says which check failed: no timestamp, stale, bad signature, missing signature, bearer', async () => {
    const body = JSON.stringify(grafana('sig-3', 'given'));
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'x-grafana-alerting-signature': sign(body) }, /missing X-Grafana-Alerting-Signature-Timestamp/],
      [stamped(body, Date.now() - 10 * 60_000), /stale/],
      [{ ...stamped(body), 'x-grafana-alerting-signature': sign('other') }, /does not match/],
      [{ 'x-relearn-signature-check': 'valid' }, /X-Grafana-Alerting-Signature/],
      [{ ...stamped(body), authorization: 'Bearer wrong-token-wrong-token' }, /token given is not it/],
    ];
    for (const [headers, reason] of cases) {
      const res = await send('/webhooks/alerts', body, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      const error = (await res.json()).error as string;
      expect(error, JSON.stringify(headers)).toMatch(reason);
      if (!/token/.test(String(reason))) expect(error).not.toMatch(/bearer token|Bearer <WEBHOOK_TOKEN>/i);
    }
    const recorded = (await sut.gql(`{ alerts(model: "spam") { fingerprint } }`)).data.alerts.map((a: any) => a.fingerprint);
    expect(recorded).not.toContain('sig-3');
  });

  it('refuses a webhook over graphql-ws (it cannot be signed), whatever the client claims', async () => {
    const port = new URL(sut.url).port;
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      retryAttempts: 0,
      connectionParams: { ...bearer, 'x-relearn-signature-check': 'valid', signature: { ok: true } },
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers: { 'x-relearn-signature-check': 'valid' } });
        }
      },
    });
    try {
      const result = await new Promise<any>((resolve, reject) => {
        let r: unknown;
        client.subscribe(
          { query: HANDLE_ALERT, variables: { input: asInput(grafana('sig-ws', 'given')) } },
          { next: (x) => (r = x), error: reject, complete: () => resolve(r) },
        );
      });
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(result.errors?.[0]?.message).toMatch(/X-Grafana-Alerting-Signature/);
    } finally {
      await client.dispose();
    }
  });
});
