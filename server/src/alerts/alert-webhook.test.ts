import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextResults, startTestApp, type TestApp } from '../../test/test-app.js';
import { HANDLE_ALERT } from './alert.graphql.js';
import { alertmanagerBody } from '../../test/alert-bodies.js';

const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef';
const HMAC_SECRET = 'hmac-secret-0123456789abcdef';

/** Grafana 11/12's default webhook body (documented format), for one alert. */
function grafanaBody(status: 'firing' | 'resolved', fingerprint: string, labels: Record<string, string>) {
  return {
    receiver: 'relearn',
    status,
    orgId: 1,
    alerts: [
      {
        status,
        labels: { alertname: 'Relearn accuracy low', grafana_folder: 'Relearn', ...labels },
        annotations: { summary: 'accuracy below threshold' },
        startsAt: '2026-11-23T09:00:00Z',
        endsAt: status === 'resolved' ? '2026-11-23T09:10:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://grafana/alerting/grafana/x/view',
        fingerprint,
        silenceURL: 'http://grafana/alerting/silence/new',
        dashboardURL: 'http://grafana/d/relearn-overview',
        panelURL: 'http://grafana/d/relearn-overview?viewPanel=1',
        values: { B: 0.62, C: 1 },
        valueString: "[ var='B' labels={model=spam} value=0.62 ]",
      },
    ],
    groupLabels: { alertname: 'Relearn accuracy low' },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://grafana/',
    version: '1',
    groupKey: `{}/{}:{alertname="Relearn accuracy low", model="${labels.model}"}`,
    truncatedAlerts: 0,
    title: `[${status.toUpperCase()}:1] Relearn accuracy low`,
    state: status === 'firing' ? 'alerting' : 'ok',
    message: '**Firing**',
  };
}

describe('alert webhooks', () => {
  let sut: TestApp;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sut.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const bearer = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
  const jobs = async (model: string) =>
    (await sut.gql(`query($m: String!) { retrainJobs(model: $m) { id reason triggers { kind } } }`, { m: model })).data.retrainJobs;

  beforeAll(async () => {
    sut = await startTestApp({ env: { WEBHOOK_TOKEN, TRAINER: 'off' } });
  });
  afterAll(() => sut?.stop());

  it('refuses missing or wrong credentials with 401 and triggers nothing', async () => {
    const body = grafanaBody('firing', 'fp-auth', { model: 'spam', action: 'retrain' });
    expect((await post('/webhooks/alerts', body)).status).toBe(401);
    expect((await post('/webhooks/alerts', body, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    const gql = await sut.gql(HANDLE_ALERT, {
      input: { source: 'grafana', status: 'firing', alerts: body.alerts.map(({ status, fingerprint, labels }) => ({ status, fingerprint, labels })) },
    });
    expect(gql.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await jobs('spam')).toEqual([]);
  });

  it('refuses malformed bodies with 400 and the reason', async () => {
    const bad = await post('/webhooks/alerts', '{ not json', bearer);
    expect(bad.status).toBe(400);
    const wrong = await post('/webhooks/alerts', { status: 'burning', alerts: [] }, bearer);
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).problems.join(' ')).toMatch(/status/);
  });

  it("Grafana's default body: a firing alert starts one retrain; repeats and retries start none; resolved starts none", async () => {
    const firing = grafanaBody('firing', 'fp-grafana-1', { model: 'fraud', action: 'retrain' });
    const first = await post('/webhooks/alerts', firing, bearer);
    expect(first.status).toBe(200);
    const answer = await first.json();
    expect(answer).toMatchObject({ accepted: true, alerts: [{ model: 'fraud', status: 'firing', action: 'retrain-requested' }] });
    // Grafana repeats while it fires, and retries on errors: same fingerprint, same incident.
    const repeats = await Promise.all([1, 2, 3].map(() => post('/webhooks/alerts', firing, bearer).then((r) => r.json())));
    for (const r of repeats) expect(r.alerts[0].action).toBe('duplicate');
    const resolved = await (await post('/webhooks/alerts', grafanaBody('resolved', 'fp-grafana-1', { model: 'fraud', action: 'retrain' }), bearer)).json();
    expect(resolved.alerts[0].action).toBe('resolved');
    const list = await jobs('fraud');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: answer.retrainJobId, reason: 'alert Relearn accuracy low firing', triggers: [{ kind: 'alert' }] });
    const recorded = (await sut.gql(`{ alerts(model: "fraud") { status action fingerprint source } }`)).data.alerts;
    expect(recorded.map((a: any) => a.action)).toEqual(['resolved', 'duplicate', 'duplicate', 'duplicate', 'retrain-requested']);
    expect(recorded.every((a: any) => a.source === 'grafana')).toBe(true);
  });

  it('records alerts that are not labelled action=retrain, or name no served model, without retraining', async () => {
    const stale = await (await post('/webhooks/alerts', grafanaBody('firing', 'fp-stale', { model: 'spam' }), bearer)).json();
    expect(stale.alerts[0].action).toBe('ignored');
    const unknown = await (await post('/webhooks/alerts', grafanaBody('firing', 'fp-unknown', { model: 'cats', action: 'retrain' }), bearer)).json();
    expect(unknown.alerts[0].action).toBe('ignored');
    expect(await jobs('spam')).toEqual([]);
  });

  it("Alertmanager's body works the same and is pushed to alertReceived subscribers", async () => {
    const client = sut.wsClient();
    const pushed = nextResults<any>(client, `subscription { alertReceived(model: "spam") { source action model } }`, {}, 100, 60_000);
    // graphql-ws says nothing once the server has registered a subscription: send alerts that
    // retrain nothing (no action label) until one is pushed, then the one under test.
    let pings = 0;
    await expect
      .poll(
        async () => {
          await post('/webhooks/alerts', grafanaBody('firing', `ping-${++pings}`, { model: 'spam' }), bearer);
          return pushed.results.length;
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBeGreaterThan(0);
    const res = await post('/webhooks/alerts', alertmanagerBody('firing', 'am-1', { model: 'spam', action: 'retrain', severity: 'warning' }), bearer);
    expect(res.status).toBe(200);
    await expect.poll(() => pushed.results.filter((r) => r.alertReceived.source === 'alertmanager'), { timeout: 30_000 }).toHaveLength(1);
    pushed.unsubscribe();
    expect(pushed.results.every((r) => r.alertReceived.source === 'alertmanager' || r.alertReceived.action === 'ignored')).toBe(true);
    const received = pushed.results.find((r) => r.alertReceived.source === 'alertmanager');
    expect(received.alertReceived).toEqual({ source: 'alertmanager', action: 'retrain-requested', model: 'spam' });
    expect(await jobs('spam')).toHaveLength(1);
  });

  it('takes the GraphQL request a Grafana 12 payload template sends', async () => {
    const input = {
      source: 'grafana',
      status: 'firing',
      groupKey: 'g-1',
      alerts: [
        {
          status: 'firing',
          fingerprint: 'tmpl-1',
          labels: { model: 'spam', action: 'retrain', alertname: 'x' },
          annotations: {},
          startsAt: '2026-11-23T09:00:00Z',
        },
      ],
    };
    const res = await sut.gql(HANDLE_ALERT, { input }, { token: WEBHOOK_TOKEN });
    expect(res.errors).toBeUndefined();
    // spam already has an open incident from the Alertmanager alert: this one is a duplicate.
    expect(res.data.handleAlert.alerts[0].action).toBe('duplicate');
    const bad = await sut.gql(HANDLE_ALERT, { input: { ...input, source: 'nagios' } }, { token: WEBHOOK_TOKEN });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'source' });
  });
});

describe('alert webhooks with a Grafana HMAC secret', () => {
  let sut: TestApp;
  beforeAll(async () => {
    // Body-only signatures allowed here (the default requires a timestamp: webhook-input.test.ts).
    sut = await startTestApp({ env: { WEBHOOK_TOKEN, WEBHOOK_HMAC_SECRET: HMAC_SECRET, WEBHOOK_HMAC_TIMESTAMP: 'optional', TRAINER: 'off' } });
  });
  afterAll(() => sut?.stop());

  const send = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${sut.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}`, ...headers }, body });
  const sign = (payload: string) => createHmac('sha256', HMAC_SECRET).update(payload).digest('hex');

  it('accepts a body signed without a timestamp, and one signed with a timestamp', async () => {
    const body = JSON.stringify(grafanaBody('firing', 'h-1', { model: 'fraud', action: 'retrain' }));
    const plain = await send('/webhooks/alerts', body, { 'x-grafana-alerting-signature': sign(body) });
    expect(plain.status).toBe(200);
    const ts = String(Math.floor(Date.now() / 1000));
    const body2 = JSON.stringify(grafanaBody('firing', 'h-2', { model: 'spam', action: 'retrain' }));
    const stamped = await send('/webhooks/alerts', body2, {
      'x-grafana-alerting-signature': sign(`${ts}:${body2}`),
      'x-grafana-alerting-signature-timestamp': ts,
    });
    expect(stamped.status).toBe(200);
    expect((await stamped.json()).alerts[0].action).toBe('retrain-requested');
  });

  it('accepts a signed GraphQL request (payload template) on /graphql', async () => {
    const body = JSON.stringify({
      query: HANDLE_ALERT,
      variables: { input: { source: 'grafana', status: 'resolved', alerts: [{ status: 'resolved', fingerprint: 'h-1', labels: { model: 'fraud' } }] } },
    });
    const res = await send('/graphql', body, { 'x-grafana-alerting-signature': sign(body) });
    const json = (await res.json()) as any;
    expect(json.errors).toBeUndefined();
    expect(json.data.handleAlert.alerts[0].action).toBe('resolved');
  });

  it('refuses a missing, wrong, tampered or stale signature, and a spoofed check header', async () => {
    const body = JSON.stringify(grafanaBody('firing', 'h-3', { model: 'fraud', action: 'retrain' }));
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    const cases: Record<string, string>[] = [
      {},
      { 'x-grafana-alerting-signature': 'deadbeef' },
      { 'x-grafana-alerting-signature': sign(body.replace('h-3', 'h-4')) },
      { 'x-grafana-alerting-signature': sign(`${old}:${body}`), 'x-grafana-alerting-signature-timestamp': old },
      { 'x-relearn-signature-check': 'valid' },
    ];
    for (const headers of cases) expect((await send('/webhooks/alerts', body, headers)).status, JSON.stringify(headers)).toBe(401);
    const recorded = (await sut.gql(`{ alerts(model: "fraud") { fingerprint } }`)).data.alerts.map((a: any) => a.fingerprint);
    expect(recorded).not.toContain('h-3');
  });
});
