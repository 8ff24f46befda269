// Webhook bodies as monitoring sends them, for the alert tests.

/** Alertmanager's webhook body (version 4). */
export function alertmanagerBody(status: 'firing' | 'resolved', fingerprint: string, labels: Record<string, string>) {
  return {
    version: '4',
    groupKey: `{}:{alertname="RelearnModelAccuracyLow", model="${labels.model}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'relearn',
    groupLabels: { alertname: 'RelearnModelAccuracyLow', model: labels.model },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status,
        labels: { alertname: 'RelearnModelAccuracyLow', ...labels },
        annotations: { summary: 'low' },
        startsAt: '2026-11-23T09:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus/graph',
        fingerprint,
      },
    ],
  };
}
