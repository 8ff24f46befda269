import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../test/test-app.js';

const LINKS = `{ monitoringLinks { prometheus grafana mlflow } }`;

describe('monitoringLinks', () => {
  let configured: TestApp;
  let bare: TestApp;
  beforeAll(async () => {
    [configured, bare] = await Promise.all([
      startTestApp({ env: { AUTH_MODE: 'keys', PROMETHEUS_URL: 'http://prometheus.example:9090', GRAFANA_URL: 'https://grafana.example/' } }),
      startTestApp({ database: 'embedded' }),
    ]);
  }, 180_000);
  afterAll(() => Promise.all([configured?.stop(), bare?.stop()]));

  it('gives the configured monitoring UIs to a reader, and nulls where nothing is configured', async () => {
    const r = await configured.gql(LINKS, {}, { token: ADMIN_TOKEN });
    expect(r.errors).toBeUndefined();
    expect(r.data.monitoringLinks).toEqual({ prometheus: 'http://prometheus.example:9090', grafana: 'https://grafana.example/', mlflow: null });
    expect((await bare.gql(LINKS)).data.monitoringLinks).toEqual({ prometheus: null, grafana: null, mlflow: null });
  });

  it('is an operational read: with keys required, an anonymous caller is refused', async () => {
    expect((await configured.gql(LINKS)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
