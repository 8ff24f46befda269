import { Migration } from '@mikro-orm/migrations';

export class Migration20261123091047_alerts extends Migration {
  override name = 'Migration20261123091047_alerts';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "alert_event" ("id" uuid not null, "source" varchar(32) not null, "model" varchar(64) null, "alert_name" varchar(200) null, "status" varchar(16) not null, "fingerprint" varchar(200) not null, "group_key" text null, "labels" jsonb not null, "annotations" jsonb not null, "starts_at" timestamptz null, "action" text not null, "retrain_job_id" uuid null, "message" text not null, "received_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "alert_event_model_received_at_index" on "alert_event" ("model", "received_at");`);
    this.addSql(`create index "alert_event_fingerprint_index" on "alert_event" ("fingerprint");`);

    this.addSql(
      `alter table "alert_event" add constraint "alert_event_action_check" check ("action" in ('retrain-requested', 'duplicate', 'resolved', 'ignored'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "alert_event" cascade;`);
  }
}
