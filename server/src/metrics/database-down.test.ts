import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { startTcpProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import { PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

/** Operations endpoints and clients while PostgreSQL cannot be reached (cut behind a proxy). */
describe('while the database is away', () => {
  let proxy: TcpProxy;
  let sut: TestApp;

  beforeAll(async () => {
    const direct = await freshDatabaseUrl('dbdown');
    proxy = await startTcpProxy(direct);
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    sut = await startTestApp({ databaseUrl: viaProxy.toString() });
    // Some feedback, so the quality gauges have values to keep.
    const p = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: true } });
  });

  afterAll(async () => {
    await proxy.up();
    await sut?.stop();
    await proxy?.close();
  });

  const post = (query: string, variables: Record<string, unknown>) =>
    fetch(`${sut.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query, variables }),
    });

  it("MikroORM's pool has error listeners of its own (PostgreSqlConnection.handlePoolErrors): a dropped idle connection cannot end the process", async () => {
    const connection = sut.app.orm.driver.getConnection() as unknown as { getNativeClient(): Promise<import('node:events').EventEmitter> };
    const pool = await connection.getNativeClient();
    expect(pool.listenerCount('error')).toBeGreaterThan(0);
    expect(pool.listenerCount('connect')).toBeGreaterThan(0); // adds one to every client, checked out or idle
  });

  it('/metrics answers with the process metrics and the last quality values; /readyz says 503, database false; GraphQL says 503 SERVICE_UNAVAILABLE with Retry-After', async () => {
    const before = await (await fetch(`${sut.url}/metrics`)).text();
    const accuracyLine = before.split('\n').find((l) => l.startsWith('model_accuracy{'));
    expect(accuracyLine).toBeDefined();

    await proxy.down();

    const metrics = await fetch(`${sut.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain(accuracyLine);
    expect(text).toMatch(/relearn_quality_read_failures_total [1-9]/);

    const ready = await fetch(`${sut.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready', checks: { database: false, 'model:fraud': true } });

    // Predictions are served from memory but stored before they are answered: no store, no answer.
    const predicted = await post(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(predicted.status).toBe(503);
    expect(predicted.headers.get('retry-after')).toBe('2');
    const body = (await predicted.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryable: true, retryAfterSeconds: 2 });

    const queried = await post(`{ metrics(model: "fraud") { accuracy } }`, {});
    expect(queried.status).toBe(503);

    await proxy.up();
    await expect.poll(async () => (await fetch(`${sut.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    const again = await post(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(again.status).toBe(200);
  });
});
