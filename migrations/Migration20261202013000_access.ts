import { Migration } from '@mikro-orm/migrations';

/**
 * API keys and the audit log. Both are SQL-only tables (access/api-key.repository.ts,
 * audit/audit.repository.ts; skipped by MikroORM's schema diff in database/orm.ts): the audit
 * log's append-only trigger is nothing an entity can describe.
 */
export class Migration20261202013000_access extends Migration {
  override name = 'Migration20261202013000_access';

  override up(): void | Promise<void> {
    // The secret is stored as sha-256 only: keys carry 256 random bits, so a fast hash is safe (see api-key-service.ts).
    this.addSql(
      `create table "api_key" ("id" varchar(32) not null, "principal" varchar(200) not null, "scopes" text[] not null, "secret_hash" char(64) not null, "created_by" varchar(200) not null, "created_at" timestamptz not null default now(), "revoked_at" timestamptz null, "revoked_by" varchar(200) null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "api_key" add constraint "api_key_scopes_check" check (cardinality("scopes") > 0 and "scopes" <@ array['PREDICT', 'FEEDBACK', 'OUTCOMES', 'ADMIN', 'WEBHOOK', 'READ']::text[]);`,
    );
    this.addSql(`create index "api_key_principal_index" on "api_key" ("principal");`);

    this.addSql(
      `create table "audit_entry" ("id" bigserial primary key, "kind" varchar(64) not null, "actor" varchar(200) not null, "model" varchar(64) null, "at" timestamptz not null default now(), "details" jsonb not null default '{}');`,
    );
    this.addSql(`create index "audit_entry_at_index" on "audit_entry" ("at");`);
    this.addSql(`create index "audit_entry_model_at_index" on "audit_entry" ("model", "at");`);
    // Append-only, enforced by the database: no UPDATE, DELETE or TRUNCATE, whoever asks (a
    // trigger binds the table's owner and superusers too, which REVOKE alone does not).
    this.addSql(
      `create function "audit_entry_append_only"() returns trigger language plpgsql as $$ begin raise exception 'audit_entry is append-only: % is not allowed', tg_op using errcode = '42501'; end $$;`,
    );
    this.addSql(
      `create trigger "audit_entry_no_update_or_delete" before update or delete on "audit_entry" for each row execute function "audit_entry_append_only"();`,
    );
    this.addSql(`create trigger "audit_entry_no_truncate" before truncate on "audit_entry" for each statement execute function "audit_entry_append_only"();`);
    this.addSql(`revoke update, delete, truncate on "audit_entry" from public;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "audit_entry" cascade;`);
    this.addSql(`drop function if exists "audit_entry_append_only"();`);
    this.addSql(`drop table if exists "api_key" cascade;`);
  }
}
