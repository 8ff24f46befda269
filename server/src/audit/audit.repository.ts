import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { AuditEntryRecord, AuditFilter, NewAuditEntry } from './audit.types.js';

interface DbAuditEntry {
  id: string;
  kind: string;
  actor: string;
  model: string | null;
  at: Date | string;
  details: Record<string, unknown>;
}

// Raw SQL answers timestamptz as text and, on some drivers, jsonb as text too.
const toRecord = (r: DbAuditEntry): AuditEntryRecord => ({
  id: String(r.id),
  kind: r.kind,
  actor: r.actor,
  model: r.model,
  at: new Date(r.at),
  details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
});

/**
 * The SQL of `audit_entry`: insert and read, nothing else. The table refuses UPDATE, DELETE and
 * TRUNCATE itself (a trigger, see the migration), so no code path here could change history.
 */
export class AuditRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  async append(entry: NewAuditEntry): Promise<AuditEntryRecord> {
    const { rows } = await sql<DbAuditEntry>`
      insert into audit_entry (kind, actor, model, details)
      values (${entry.kind}, ${entry.actor}, ${entry.model}, ${JSON.stringify(entry.details)}::jsonb)
      returning *`.execute(this.db);
    return toRecord(rows[0]!);
  }

  async get(id: string): Promise<AuditEntryRecord | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const { rows } = await sql<DbAuditEntry>`select * from audit_entry where id = ${id}::bigint`.execute(this.db);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Newest first. */
  async list(filter: AuditFilter): Promise<AuditEntryRecord[]> {
    const { rows } = await sql<DbAuditEntry>`
      select * from audit_entry
      where (${filter.model ?? null}::text is null or model = ${filter.model ?? null})
        and (${filter.kind ?? null}::text is null or kind = ${filter.kind ?? null})
        and (${filter.actor ?? null}::text is null or actor = ${filter.actor ?? null})
        and (${filter.from ?? null}::timestamptz is null or at >= ${filter.from ?? null})
        and (${filter.to ?? null}::timestamptz is null or at < ${filter.to ?? null})
      order by at desc, id desc
      limit ${filter.first}`.execute(this.db);
    return rows.map(toRecord);
  }
}
