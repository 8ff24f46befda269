import { sql } from 'kysely';
import type { Orm } from '../database/orm.js';
import type { ApiKeyRecord } from './api-key.types.js';
import type { ApiScope } from './principal.js';

interface DbApiKey {
  id: string;
  principal: string;
  scopes: string[];
  secret_hash: string;
  created_by: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
  revoked_by: string | null;
}

/** A stored key and the sha-256 of its secret (what verification compares). */
export interface StoredApiKey {
  key: ApiKeyRecord;
  secretHash: string;
}

const toStored = (r: DbApiKey): StoredApiKey => ({
  key: {
    id: r.id,
    principal: r.principal,
    scopes: r.scopes as ApiScope[],
    createdBy: r.created_by,
    // Raw SQL answers timestamptz as text.
    createdAt: new Date(r.created_at),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
    revokedBy: r.revoked_by,
  },
  secretHash: r.secret_hash,
});

/** The SQL of `api_key`. */
export class ApiKeyRepository {
  constructor(private readonly orm: Orm) {}

  private get db() {
    return this.orm.em.getKysely();
  }

  async insert(row: { id: string; principal: string; scopes: readonly ApiScope[]; secretHash: string; createdBy: string }): Promise<ApiKeyRecord> {
    const { rows } = await sql<DbApiKey>`
      insert into api_key (id, principal, scopes, secret_hash, created_by)
      values (${row.id}, ${row.principal}, ${[...row.scopes]}::text[], ${row.secretHash}, ${row.createdBy})
      returning *`.execute(this.db);
    return toStored(rows[0]!).key;
  }

  async find(id: string): Promise<StoredApiKey | null> {
    const { rows } = await sql<DbApiKey>`select * from api_key where id = ${id}`.execute(this.db);
    return rows[0] ? toStored(rows[0]) : null;
  }

  /** Newest first. */
  async list(): Promise<ApiKeyRecord[]> {
    const { rows } = await sql<DbApiKey>`select * from api_key order by created_at desc, id`.execute(this.db);
    return rows.map((r) => toStored(r).key);
  }

  /** Marks the key revoked (once: a second revocation keeps the first's time and actor). Null: no such key. */
  async revoke(id: string, actor: string): Promise<{ key: ApiKeyRecord; revokedNow: boolean } | null> {
    const { rows } = await sql<DbApiKey & { revoked_now: boolean }>`
      with updated as (
        update api_key set revoked_at = now(), revoked_by = ${actor} where id = ${id} and revoked_at is null returning *
      )
      select *, true as revoked_now from updated
      union all
      select *, false as revoked_now from api_key where id = ${id} and not exists (select 1 from updated)`.execute(this.db);
    const row = rows[0];
    return row ? { key: toStored(row).key, revokedNow: row.revoked_now } : null;
  }
}
