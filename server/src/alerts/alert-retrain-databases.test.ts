import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrainFinished, startTestApp, type TestApp } from '../../test/test-app.js';
import { alertmanagerBody as alertmanagerBodyOf } from '../../test/alert-bodies.js';
import { HANDLE_ALERT } from './alert.graphql.js';

const alertmanagerBody = (fingerprint: string, labels: Record<string, string>) => alertmanagerBodyOf('firing', fingerprint, labels);

const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef';
const ANSWER_MS = 20_000;

// The alert's decision, its row and the retrain request once deadlocked the embedded database
// (a transaction on one connection waiting for a query on another, with PGlite's one backend).
describe.each(['embedded', 'postgres'] as const)('a firing alert on the %s database', (database) => {
  let sut: TestApp;
  const post = (body: unknown) =>
    fetch(`${sut.url}/webhooks/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ANSWER_MS),
    });
  const jobs = async (model: string) =>
    (await sut.gql(`query($m: String!) { retrainJobs(model: $m) { id state triggers { kind } } }`, { m: model })).data.retrainJobs;

  beforeAll(async () => {
    sut = await startTestApp({ database, env: { WEBHOOK_TOKEN } });
  });
  afterAll(() => sut?.stop());

  it('POST /webhooks/alerts answers, and the incident starts exactly one retrain, which runs to its end', async () => {
    const firing = alertmanagerBody('am-db-1', { model: 'spam', action: 'retrain', severity: 'warning' });
    const sibling = alertmanagerBody('am-db-2', { model: 'spam', action: 'retrain', severity: 'critical' });
    // Alertmanager repeats and retries, and sibling alerts of one incident arrive together.
    const answers = await Promise.all([post(firing), post(firing), post(sibling), post(firing)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const bodies = await Promise.all(answers.map((a) => a.json()));
    const actions = bodies.map((b) => b.alerts[0].action).sort();
    expect(actions).toEqual(['duplicate', 'duplicate', 'duplicate', 'retrain-requested']);
    const jobIds = new Set(bodies.map((b) => b.retrainJobId));
    expect(jobIds.size).toBe(1);

    await retrainFinished(sut, 'spam', [...jobIds][0]);
    const list = await jobs('spam');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: [...jobIds][0], triggers: [{ kind: 'alert' }] });
    expect(['PROMOTED', 'REJECTED']).toContain(list[0].state);
  });

  it("keeps serving after the alert: another model's alert starts that model's own retrain", async () => {
    const fraud = await post(alertmanagerBody('am-db-3', { model: 'fraud', action: 'retrain' }));
    expect((await fraud.json()).alerts[0].action).toBe('retrain-requested');
    expect(await jobs('fraud')).toHaveLength(1);
    const recorded = (await sut.gql(`{ alerts(model: "spam") { action } }`)).data.alerts;
    expect(recorded).toHaveLength(4);
  });

  it('the handleAlert mutation (a Grafana payload template) answers the same way', async () => {
    const input = {
      source: 'grafana',
      status: 'firing',
      alerts: [{ status: 'firing', fingerprint: 'tmpl-db-1', labels: { model: 'fraud', action: 'retrain', alertname: 'x' } }],
    };
    const res = await sut.gql(HANDLE_ALERT, { input }, { token: WEBHOOK_TOKEN });
    expect(res.errors).toBeUndefined();
    // fraud's incident from the previous alert is still open: one retrain, this one joins it.
    expect(res.data.handleAlert.alerts[0].action).toBe('duplicate');
    expect(await jobs('fraud')).toHaveLength(1);
  });
});
