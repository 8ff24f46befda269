import { Migration } from '@mikro-orm/migrations';

export class Migration20261123085001_trainer extends Migration {
  override name = 'Migration20261123085001_trainer';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "retrain_job" ("id" uuid not null, "model" varchar(64) not null, "state" text not null default 'QUEUED', "triggers" jsonb not null, "progress" double precision not null default 0, "version" int null, "message" text null, "attempts" int not null default 0, "max_attempts" int not null, "created_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "retrain_job_model_created_at_index" on "retrain_job" ("model", "created_at");`);
    this.addSql(`create index "retrain_job_model_state_index" on "retrain_job" ("model", "state");`);

    this.addSql(`alter table "dataset_version" add constraint "dataset_version_model_content_hash_unique" unique ("model", "content_hash");`);

    this.addSql(
      `alter table "model_version" add "evaluation" jsonb null, add "retrain_job_id" uuid null, add "registry_run_id" varchar(64) null, add "registry_version" varchar(32) null, add "registry_run_url" text null, add "registry_version_url" text null;`,
    );
    this.addSql(`alter table "model_version" add constraint "model_version_retrain_job_id_unique" unique ("retrain_job_id");`);

    this.addSql(
      `alter table "retrain_job" add constraint "retrain_job_state_check" check ("state" in ('QUEUED', 'SNAPSHOTTING', 'TRAINING', 'EVALUATING', 'REGISTERING', 'PROMOTED', 'REJECTED', 'FAILED'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "retrain_job" cascade;`);

    this.addSql(`alter table "dataset_version" drop constraint "dataset_version_model_content_hash_unique";`);

    this.addSql(`alter table "model_version" drop constraint "model_version_retrain_job_id_unique";`);
    this.addSql(
      `alter table "model_version" drop column "evaluation", drop column "retrain_job_id", drop column "registry_run_id", drop column "registry_version", drop column "registry_run_url", drop column "registry_version_url";`,
    );
  }
}
