import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const ALERT_ACTIONS = ['retrain-requested', 'duplicate', 'resolved', 'ignored'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

/** One alert notification as received from Grafana or Alertmanager, and what Relearn did about it. */
export const AlertEvent = defineEntity({
  name: 'AlertEvent',
  tableName: 'alert_event',
  properties: {
    id: p.uuid().primary(),
    source: p.string().length(32),
    model: p.string().length(64).nullable(),
    alertName: p.string().length(200).nullable(),
    status: p.string().length(16),
    fingerprint: p.string().length(200),
    groupKey: p.text().nullable(),
    labels: p.json<Record<string, string>>(),
    annotations: p.json<Record<string, string>>(),
    startsAt: p.datetime().nullable(),
    action: p.enum(ALERT_ACTIONS),
    retrainJobId: p.uuid().nullable(),
    message: p.text(),
    receivedAt: p.datetime().onCreate(() => new Date()),
  },
  indexes: [{ properties: ['model', 'receivedAt'] }, { properties: ['fingerprint'] }],
});
export type IAlertEvent = InferEntity<typeof AlertEvent>;
