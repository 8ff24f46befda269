import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { DriftRow } from './drift-report.js';

/** The recent inputs drift compares with the training data: the newest predictions of one version. */
export class DriftRepository {
  constructor(private readonly orm: Orm) {}

  /** At most `limit` of the newest predictions of a version (of the last `lastSeconds`, when given), newest first. */
  async recentInputs(model: string, modelVersionId: number, window: { limit: number; lastSeconds?: number | null }): Promise<DriftRow[]> {
    const recent = window.lastSeconds ? sql`and created_at > now() - make_interval(secs => ${window.lastSeconds})` : sql``;
    const { rows } = await sql<{ input: Record<string, unknown>; label: string }>`
      select input, label from prediction where model = ${model} and model_version_id = ${modelVersionId} ${recent}
      order by created_at desc limit ${window.limit}`.execute(this.orm.em.getKysely());
    return rows;
  }
}
