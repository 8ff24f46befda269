import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';

/** The SQL of the `alert_event` table (the rest goes through its entity). */
export const alertRepository = {
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
  },
};
