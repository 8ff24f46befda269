import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import { lockFor } from '../database/advisory-lock.js';
import type { Orm } from '../database/orm.js';
import { AlertEvent, type IAlertEvent } from './alert.entity.js';

/** The queries of the `alert_event` table; the alert service holds the rules. */
export class AlertRepository {
  constructor(private readonly orm: Orm) {}

  /**
   * Runs `work` in one transaction holding `model`'s alert lock (when there is a model), so the
   * next delivery for that model sees this one's decision and the job it wrote.
   */
  decideWithin<T>(model: string | null, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.orm.em.fork().transactional(async (tx) => {
      if (model) await lockFor(tx, `relearn:alert:${model}`);
      return work(tx);
    });
  }

  /** On `tx`: a new alert row, written when `tx` flushes. */
  async record(tx: EntityManager, row: Omit<IAlertEvent, 'receivedAt'>): Promise<IAlertEvent> {
    const created = tx.create(AlertEvent, row);
    await tx.flush();
    return created;
  }

  get(id: string): Promise<IAlertEvent | null> {
    return this.orm.em.fork().findOne(AlertEvent, { id });
  }

  /** The newest `limit` alerts of `model`. */
  list(model: string, limit: number): Promise<IAlertEvent[]> {
    return this.orm.em.fork().find(AlertEvent, { model }, { orderBy: { receivedAt: 'desc' }, limit });
  }

  /**
   * The retrain an incident of `model` already asked for: the newest `retrain-requested` alert of
   * the last `ttlHours` whose fingerprint has not been resolved since. Read on the caller's transaction.
   */
  async openRetrainIncident(tx: EntityManager, model: string, ttlHours: number): Promise<{ retrainJobId: string; fingerprint: string } | null> {
    const { rows } = await sql<{ retrain_job_id: string; fingerprint: string }>`
      select a.retrain_job_id, a.fingerprint from alert_event a
      where a.model = ${model} and a.action = 'retrain-requested'
        and a.received_at > now() - make_interval(hours => ${ttlHours})
        and not exists (select 1 from alert_event r where r.model = a.model and r.fingerprint = a.fingerprint
                        and r.status = 'resolved' and r.received_at > a.received_at)
      order by a.received_at desc limit 1`.execute(tx.getKysely());
    const open = rows[0];
    return open ? { retrainJobId: open.retrain_job_id, fingerprint: open.fingerprint } : null;
  }
}
