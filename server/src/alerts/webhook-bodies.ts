import { z } from 'zod';
import type { AlertNotification } from './alert-service.js';

/**
 * The standard webhook bodies of Grafana (11/12, `version: "1"`) and Alertmanager
 * (`version: "4"`), both carrying `status`, `groupKey` and `alerts[]` with labels and a
 * fingerprint; validated and turned into one AlertNotification.
 */
const labels = z.record(z.string(), z.string());
const alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.optional().default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  fingerprint: z.string().min(1).max(200),
});
const body = z.object({
  version: z.string().optional(),
  status: z.enum(['firing', 'resolved']),
  groupKey: z.string().optional(),
  receiver: z.string().optional(),
  orgId: z.number().optional(),
  alerts: z.array(alert).min(1).max(500),
});

export type WebhookParse = { ok: true; notification: AlertNotification } | { ok: false; problems: string[] };

export function parseWebhookBody(json: unknown): WebhookParse {
  const parsed = body.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`) };
  }
  const b = parsed.data;
  // Grafana's body has orgId and version "1"; Alertmanager's has version "4".
  const source = b.orgId !== undefined || b.version === '1' ? 'grafana' : 'alertmanager';
  return {
    ok: true,
    notification: {
      source,
      status: b.status,
      groupKey: b.groupKey ?? null,
      alerts: b.alerts.map((a) => ({
        status: a.status,
        fingerprint: a.fingerprint,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt ?? null,
        endsAt: a.endsAt ?? null,
      })),
    },
  };
}
