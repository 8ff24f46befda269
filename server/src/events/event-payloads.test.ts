import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../test/test-app.js';
import { HANDLE_ALERT } from '../alerts/alert.graphql.js';
import { MAX_PAYLOAD_BYTES } from './postgres-event-target.js';

const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef';

/**
 * Events cross processes as PostgreSQL NOTIFYs (at most 8000 bytes): records that grow — a
 * retrain job with 50 triggers, an alert with many labels — used to be dropped on the way.
 * Events now carry ids; subscribers read the record.
 */
describe('event payloads over NOTIFY', () => {
  let sut: TestApp;
  const published: { topic: string; bytes: number }[] = [];

  beforeAll(async () => {
    sut = await startTestApp({ env: { WEBHOOK_TOKEN, TRAINER: 'off' } });
    // Every event this process publishes, as it would be sent.
    const { events } = sut.app.services;
    const publish = events.publish.bind(events);
    events.publish = ((topic: string, ...args: unknown[]) => {
      published.push({ topic, bytes: Buffer.byteLength(JSON.stringify({ topic, detail: args[0] })) });
      return (publish as (...a: unknown[]) => void)(topic, ...args);
    }) as typeof events.publish;
  });

  afterAll(async () => {
    await sut?.stop();
  });

  it('a retrain job with 50 long triggers reaches retrainStatus subscribers at every step', async () => {
    const client = sut.wsClient();
    const pushed: any[] = [];
    let failed: unknown = null;
    const unsubscribe = client.subscribe<any>(
      { query: `subscription { retrainStatus(model: "fraud") { id state progress triggers { reason } } }` },
      { next: (r) => (r.errors ? (failed = r.errors) : pushed.push(r.data!.retrainStatus)), error: (e) => (failed = e), complete: () => {} },
    );

    const trigger = (i: number) =>
      sut.gql(
        `mutation($r: String) { triggerRetrain(model: "fraud", reason: $r) { id triggers { kind } } }`,
        { r: `trigger ${i}: ${'x'.repeat(900)}` },
        { token: ADMIN_TOKEN },
      );
    const first = await trigger(0);
    expect(first.errors).toBeUndefined();
    const jobId = first.data.triggerRetrain.id;
    // The first push (the latest job) says the subscription is live.
    await expect.poll(() => pushed.some((j) => j.id === jobId), { timeout: 10_000 }).toBe(true);
    for (let i = 1; i < 50; i++) expect((await trigger(i)).data.triggerRetrain.id).toBe(jobId);

    // No trainer in this process: run the job here, so its steps are published with 50 triggers.
    await sut.app.services.retrains.process(jobId, sut.app.pipeline);
    await expect.poll(() => pushed.at(-1)?.state, { timeout: 20_000 }).toMatch(/PROMOTED|REJECTED/);
    unsubscribe();
    expect(failed).toBeNull();
    const steps = pushed.filter((j) => j.id === jobId);
    expect([...new Set(steps.map((s) => s.state))].slice(0, 4)).toEqual(['QUEUED', 'SNAPSHOTTING', 'TRAINING', 'EVALUATING']);
    expect(steps.at(-1)!.triggers).toHaveLength(50);
    expect(JSON.stringify(steps.at(-1)!.triggers).length).toBeGreaterThan(50 * 900);
  });

  it('an alert with many long labels reaches alertReceived subscribers whole', async () => {
    const labels: Record<string, string> = { model: 'spam', alertname: 'big' };
    for (let i = 0; i < 40; i++) labels[`label_${i}`] = `${i}:${'y'.repeat(250)}`;
    const client = sut.wsClient();
    const pushed: any[] = [];
    const unsubscribe = client.subscribe<any>(
      { query: `subscription { alertReceived(model: "spam") { id fingerprint labels } }` },
      { next: (r) => r.data && pushed.push(r.data.alertReceived), error: () => {}, complete: () => {} },
    );
    // No signal says a subscription is live: send (distinct) alerts until one arrives.
    const sent: string[] = [];
    const deadline = Date.now() + 15_000;
    while (pushed.length === 0 && Date.now() < deadline) {
      const fingerprint = `big-${sent.length}`;
      const input = { source: 'alertmanager', status: 'firing', alerts: [{ status: 'firing', fingerprint, labels }] };
      const res = await sut.gql(HANDLE_ALERT, { input }, { token: WEBHOOK_TOKEN });
      expect(res.errors).toBeUndefined();
      sent.push(fingerprint);
      await expect
        .poll(() => pushed.length, { timeout: 500, interval: 20 })
        .toBeGreaterThan(0)
        .catch(() => {});
    }
    unsubscribe();
    expect(pushed.length).toBeGreaterThan(0);
    expect(sent).toContain(pushed[0].fingerprint);
    expect(pushed[0].labels).toEqual(labels);
  });

  it('every event this process published fits in a NOTIFY', () => {
    expect(published.map((p) => p.topic)).toEqual(expect.arrayContaining(['retrainJobChanged', 'alertReceived']));
    expect(Math.max(...published.map((p) => p.bytes))).toBeLessThan(MAX_PAYLOAD_BYTES / 10);
  });
});
