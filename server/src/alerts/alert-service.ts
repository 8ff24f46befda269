import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import type { PendingRetrainRequest, RetrainService } from '../retraining/retrain-service.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { AlertAction, IAlertEvent } from './alert.entity.js';
import type { AlertRepository } from './alert.repository.js';

/** An alert notification, in the one shape both Grafana and Alertmanager bodies are turned into. */
export interface AlertNotification {
  source: 'grafana' | 'alertmanager';
  status: 'firing' | 'resolved';
  groupKey?: string | null;
  alerts: {
    status: 'firing' | 'resolved';
    fingerprint: string;
    labels: Record<string, string>;
    annotations?: Record<string, string> | null;
    startsAt?: string | null;
    endsAt?: string | null;
  }[];
}

export type AlertRecord = Omit<IAlertEvent, 'receivedAt' | 'startsAt'> & { receivedAt: string; startsAt: string | null };

export interface AlertOutcome {
  alerts: AlertRecord[];
  /** The retrain the notification started (or joined), if any. */
  retrainJobId: string | null;
}

/** A firing incident older than this is treated as over even without a resolved notification. */
const INCIDENT_TTL_HOURS = 24;

/**
 * Alerts from monitoring: each one is recorded; a firing alert labelled `action: retrain`
 * starts one retrain of its model, and keeps no other retrain of that model starting while
 * it fires (repeats, retries and sibling alerts are duplicates); resolved alerts start nothing.
 */
export class AlertService {
  constructor(
    private readonly repository: AlertRepository,
    private readonly tasks: TaskRegistry,
    private readonly retrains: RetrainService,
    private readonly events: EventBus,
    private readonly logger: Logger,
  ) {}

  async receive(notification: AlertNotification): Promise<AlertOutcome> {
    const records: AlertRecord[] = [];
    let retrainJobId: string | null = null;
    for (const alert of notification.alerts) {
      const model = alert.labels.model ?? null;
      const base = {
        id: randomUUID(),
        source: notification.source,
        model,
        alertName: alert.labels.alertname ?? alert.labels.__alert_rule_title__ ?? null,
        status: alert.status,
        fingerprint: alert.fingerprint,
        groupKey: notification.groupKey ?? null,
        labels: alert.labels,
        annotations: alert.annotations ?? {},
        startsAt: alert.startsAt ? new Date(alert.startsAt) : null,
      };
      // Decided, recorded and the retrain job written in one transaction on one connection, so
      // the next delivery sees this one's decision and job (one retrain per incident), and
      // nothing inside waits for another connection (a deadlock on the embedded database).
      const { row, retrain } = await this.repository.decideWithin(model, async (tx) => {
        const { retrain, ...decided } = await this.decide(tx, base, alert.status);
        return { row: await this.repository.record(tx, { ...base, ...decided }), retrain };
      });
      if (retrain) await this.retrains.announce(retrain);
      if (row.retrainJobId) retrainJobId = row.retrainJobId;
      const record = toRecord(row);
      records.push(record);
      this.events.publish('alertReceived', { id: record.id, model: record.model ?? null });
      this.logger.info({ model, alert: base.alertName, status: alert.status, action: row.action }, `alert: ${row.message}`);
    }
    return { alerts: records, retrainJobId };
  }

  async get(id: string): Promise<AlertRecord | null> {
    const row = await this.repository.get(id);
    return row ? toRecord(row) : null;
  }

  async list(model: string, limit = 50): Promise<AlertRecord[]> {
    return (await this.repository.list(model, limit)).map(toRecord);
  }

  private async decide(
    tx: EntityManager,
    alert: { model: string | null; fingerprint: string; labels: Record<string, string>; alertName: string | null },
    status: 'firing' | 'resolved',
  ): Promise<{ action: AlertAction; message: string; retrainJobId: string | null; retrain?: PendingRetrainRequest }> {
    if (status === 'resolved') return { action: 'resolved', message: 'resolved: nothing to do', retrainJobId: null };
    if (alert.labels.action !== 'retrain') {
      return { action: 'ignored', message: 'firing, but not labelled action=retrain: recorded only', retrainJobId: null };
    }
    if (!alert.model || !this.tasks.get(alert.model)) {
      return { action: 'ignored', message: `no model Relearn serves in the label model (${alert.model ?? 'missing'})`, retrainJobId: null };
    }
    const model = alert.model;
    const open = await this.repository.openRetrainIncident(tx, model, INCIDENT_TTL_HOURS);
    if (open) {
      return {
        action: 'duplicate' as const,
        message: `still firing: retrain ${open.retrainJobId} was already requested for this incident`,
        retrainJobId: open.retrainJobId,
      };
    }
    const reason = `alert ${alert.alertName ?? alert.fingerprint} firing`;
    const retrain = await this.retrains.requestWithin(tx, model, { kind: 'alert', reason });
    const { job } = retrain;
    return { action: 'retrain-requested' as const, message: `retrain requested (job ${job.id})`, retrainJobId: job.id, retrain };
  }
}

function toRecord(row: IAlertEvent): AlertRecord {
  return {
    ...row,
    startsAt: row.startsAt ? new Date(row.startsAt).toISOString() : null,
    receivedAt: new Date(row.receivedAt).toISOString(),
  };
}
