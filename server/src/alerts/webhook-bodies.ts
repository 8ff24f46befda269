import { z } from 'zod';
import { unstorableTextReason } from '../shared/storable-text.js';
import type { AlertNotification } from './alert-service.js';

/** Text that is stored (labels and annotations are jsonb): PostgreSQL must be able to hold it. */
const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .max(max, `must be at most ${max} characters`)
    .superRefine((s, ctx) => {
      const reason = unstorableTextReason(s);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    });

const labels = z.record(text(256), text(16_384)).refine((r) => Object.keys(r).length <= 200, 'must have at most 200 entries');

/**
 * An RFC 3339 date-time as Go's time.Time marshals it (Z or an offset, up to nanoseconds),
 * years 0001-9999 (PostgreSQL's timestamptz holds them; Alertmanager's "no end" is 0001-01-01).
 * Anything else is the sender's error (400 naming the field), never a failed insert.
 */
const dateTime = z
  .string({ error: 'must be an RFC 3339 date-time string' })
  .regex(/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 date-time such as 2026-11-23T09:00:00Z')
  .refine((s) => !Number.isNaN(Date.parse(s.replace(/(\.\d{3})\d+/, '$1'))), 'is not a valid date-time')
  .refine((s) => s.slice(0, 4) !== '0000', 'must be in the years 0001-9999');

const status = z.enum(['firing', 'resolved'], { error: 'must be firing or resolved' });

/**
 * The standard webhook bodies of Grafana (11/12, `version: "1"`) and Alertmanager
 * (`version: "4"`), both carrying `status`, `groupKey` and `alerts[]` with labels and a
 * fingerprint. Optional fields may be absent or null (a payload template renders missing ones
 * as null); unknown fields are ignored.
 */
const alert = z.object({
  status,
  labels,
  annotations: labels.nullish(),
  startsAt: dateTime.nullish(),
  endsAt: dateTime.nullish(),
  fingerprint: text(200).min(1, 'must not be empty'),
});
const body = z.object(
  {
    version: z.string({ error: 'must be a string' }).nullish(),
    status,
    groupKey: text(4096).nullish(),
    receiver: z.string({ error: 'must be a string' }).nullish(),
    orgId: z.number({ error: 'must be a number' }).nullish(),
    alerts: z.array(alert, { error: 'must be a list of alerts' }).min(1, 'must hold at least one alert').max(500, 'must hold at most 500 alerts'),
  },
  { error: 'must be a JSON object' },
);

export interface WebhookProblem {
  /** Where, e.g. `alerts.0.startsAt` (`(body)` for the whole body). */
  field: string;
  reason: string;
}

export type WebhookParse = { ok: true; notification: AlertNotification } | { ok: false; problems: WebhookProblem[] };

/** Validates a webhook body into one AlertNotification, or says what is wrong with it, field by field. */
export function parseWebhookBody(json: unknown, source?: 'grafana' | 'alertmanager'): WebhookParse {
  const parsed = body.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', reason: i.message })) };
  }
  const b = parsed.data;
  return {
    ok: true,
    notification: {
      // Grafana's body has orgId and version "1"; Alertmanager's has version "4".
      source: source ?? (b.orgId != null || b.version === '1' ? 'grafana' : 'alertmanager'),
      status: b.status,
      groupKey: b.groupKey ?? null,
      alerts: b.alerts.map((a) => ({
        status: a.status,
        fingerprint: a.fingerprint,
        labels: a.labels,
        annotations: a.annotations ?? {},
        startsAt: a.startsAt ?? null,
        endsAt: a.endsAt ?? null,
      })),
    },
  };
}
