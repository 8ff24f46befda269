import { Migration } from '@mikro-orm/migrations';

export class Migration20261123081950 extends Migration {
  override name = 'Migration20261123081950';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "dataset_version" ("id" serial primary key, "model" varchar(64) not null, "version" int not null, "content_hash" varchar(64) not null, "location" text not null, "manifest" jsonb not null, "created_at" timestamptz not null);`,
    );
    this.addSql(`alter table "dataset_version" add constraint "dataset_version_model_version_unique" unique ("model", "version");`);

    this.addSql(
      `create table "model_version" ("id" serial primary key, "model" varchar(64) not null, "version" int not null, "status" text not null default 'CANDIDATE', "artifact" jsonb not null, "training_metrics" jsonb null, "dataset_version_id" int null, "trained_through_feedback_id" bigint not null default '0', "created_at" timestamptz not null, "activated_at" timestamptz null);`,
    );
    this.addSql(`create index "model_version_model_status_index" on "model_version" ("model", "status");`);
    this.addSql(`alter table "model_version" add constraint "model_version_model_version_unique" unique ("model", "version");`);

    this.addSql(
      `create table "model_activation" ("id" serial primary key, "model" varchar(64) not null, "model_version_id" int not null, "previous_version" int null, "actor" varchar(128) not null, "reason" text not null, "created_at" timestamptz not null);`,
    );
    this.addSql(`create index "model_activation_model_created_at_index" on "model_activation" ("model", "created_at");`);

    this.addSql(
      `create table "prediction" ("id" uuid not null, "model" varchar(64) not null, "model_version_id" int not null, "input" jsonb not null, "label" varchar(128) not null, "probability" double precision not null, "scores" jsonb not null, "latency_ms" double precision not null, "created_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "prediction_model_created_at_index" on "prediction" ("model", "created_at");`);

    this.addSql(
      `create table "feedback" ("id" bigserial primary key, "model" varchar(64) not null, "prediction_id" uuid null, "model_version_id" int null, "predicted" varchar(128) not null, "actual" varchar(128) not null, "correct" boolean not null, "idempotency_key" varchar(200) null, "source" text not null default 'feedback', "created_at" timestamptz not null default now());`,
    );
    this.addSql(`alter table "feedback" add constraint "feedback_prediction_id_unique" unique ("prediction_id");`);
    this.addSql(`alter table "feedback" add constraint "feedback_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`create index "feedback_model_id_index" on "feedback" ("model", "id");`);
    this.addSql(`create index "feedback_model_created_at_index" on "feedback" ("model", "created_at");`);

    this.addSql(
      `create table "training_run" ("id" serial primary key, "model" varchar(64) not null, "state" text not null default 'RUNNING', "reason" text not null, "dataset_version_id" int null, "model_version_id" int null, "message" text null, "duration_ms" double precision null, "started_at" timestamptz not null, "finished_at" timestamptz null);`,
    );
    this.addSql(`create index "training_run_model_started_at_index" on "training_run" ("model", "started_at");`);

    this.addSql(
      `alter table "model_version" add constraint "model_version_dataset_version_id_foreign" foreign key ("dataset_version_id") references "dataset_version" ("id") on delete set null;`,
    );
    this.addSql(`alter table "model_version" add constraint "model_version_status_check" check ("status" in ('CANDIDATE', 'LIVE', 'RETIRED', 'REJECTED'));`);

    this.addSql(
      `alter table "model_activation" add constraint "model_activation_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id");`,
    );

    this.addSql(
      `alter table "prediction" add constraint "prediction_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id");`,
    );

    this.addSql(
      `alter table "feedback" add constraint "feedback_prediction_id_foreign" foreign key ("prediction_id") references "prediction" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "feedback" add constraint "feedback_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on delete set null;`,
    );
    this.addSql(`alter table "feedback" add constraint "feedback_source_check" check ("source" in ('feedback', 'outcome'));`);

    this.addSql(`alter table "training_run" add constraint "training_run_state_check" check ("state" in ('RUNNING', 'SUCCEEDED', 'FAILED'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "model_version" drop constraint "model_version_dataset_version_id_foreign";`);
    this.addSql(`alter table "model_activation" drop constraint "model_activation_model_version_id_foreign";`);
    this.addSql(`alter table "prediction" drop constraint "prediction_model_version_id_foreign";`);
    this.addSql(`alter table "feedback" drop constraint "feedback_model_version_id_foreign";`);
    this.addSql(`alter table "feedback" drop constraint "feedback_prediction_id_foreign";`);

    this.addSql(`drop table if exists "dataset_version" cascade;`);
    this.addSql(`drop table if exists "model_version" cascade;`);
    this.addSql(`drop table if exists "model_activation" cascade;`);
    this.addSql(`drop table if exists "prediction" cascade;`);
    this.addSql(`drop table if exists "feedback" cascade;`);
    this.addSql(`drop table if exists "training_run" cascade;`);
  }
}
