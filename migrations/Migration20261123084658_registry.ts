import { Migration } from '@mikro-orm/migrations';

export class Migration20261123084658_registry extends Migration {
  override name = 'Migration20261123084658_registry';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "registry_alias" ("id" serial primary key, "model" varchar(64) not null, "alias" varchar(255) not null, "version" int not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(`alter table "registry_alias" add constraint "registry_alias_model_alias_unique" unique ("model", "alias");`);

    this.addSql(
      `create table "registry_model_version" ("id" serial primary key, "model" varchar(64) not null, "version" int not null, "run_id" uuid not null, "source" text not null, "tags" jsonb not null, "created_at" timestamptz not null);`,
    );
    this.addSql(`alter table "registry_model_version" add constraint "registry_model_version_model_version_unique" unique ("model", "version");`);

    this.addSql(
      `create table "registry_run" ("run_id" uuid not null, "model" varchar(64) not null, "name" text not null, "status" text not null default 'RUNNING', "params" jsonb not null, "metrics" jsonb not null, "tags" jsonb not null, "start_time" timestamptz not null, "end_time" timestamptz null, primary key ("run_id"));`,
    );
    this.addSql(`create index "registry_run_model_start_time_index" on "registry_run" ("model", "start_time");`);

    this.addSql(`alter table "registry_run" add constraint "registry_run_status_check" check ("status" in ('RUNNING', 'FINISHED', 'FAILED', 'KILLED'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "registry_alias" cascade;`);
    this.addSql(`drop table if exists "registry_model_version" cascade;`);
    this.addSql(`drop table if exists "registry_run" cascade;`);
  }
}
