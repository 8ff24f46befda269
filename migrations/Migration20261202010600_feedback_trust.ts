import { Migration } from '@mikro-orm/migrations';

/**
 * Who taught what, and whether it may teach: each feedback row records its source (the principal)
 * and an optional end-user id, whether the trust gate quarantined it and what a reviewer decided,
 * and whether an admin retracted it. `kind` is the old `source` column (feedback on a prediction
 * or an outcome of one made elsewhere), renamed so that `source` can name the teacher.
 */
export class Migration20261202010600_feedback_trust extends Migration {
  override name = 'Migration20261202010600_feedback_trust';

  override up(): void | Promise<void> {
    this.addSql(`alter table "feedback" rename column "source" to "kind";`);
    this.addSql(`alter table "feedback" rename constraint "feedback_source_check" to "feedback_kind_check";`);
    this.addSql(`alter table "feedback" add "source" varchar(200) not null default 'anonymous';`);
    this.addSql(`alter table "feedback" add "end_user_id" varchar(200) null;`);
    // sha-256 of the prediction's canonical input: labels of the same input by different sources are compared (trust).
    this.addSql(`alter table "feedback" add "input_key" varchar(64) null;`);
    this.addSql(`alter table "feedback" add "quarantined" boolean not null default false;`);
    this.addSql(`alter table "feedback" add "quarantine_reason" text null;`);
    this.addSql(`alter table "feedback" add "review" text null;`);
    this.addSql(`alter table "feedback" add constraint "feedback_review_check" check ("review" in ('released', 'rejected'));`);
    this.addSql(`alter table "feedback" add "reviewed_by" varchar(200) null;`);
    this.addSql(`alter table "feedback" add "reviewed_at" timestamptz null;`);
    // When the row began to teach (its commit, or its release from quarantine); null while it does not.
    this.addSql(`alter table "feedback" add "learned_at" timestamptz null default now();`);
    this.addSql(`update "feedback" set "learned_at" = "created_at";`);

    this.addSql(
      `create table "feedback_retraction" ("id" serial primary key, "model" varchar(64) null, "actor" varchar(200) not null, "reason" text not null, "criteria" jsonb not null, "count" int not null default 0, "created_at" timestamptz not null default now());`,
    );
    this.addSql(`alter table "feedback" add "retraction_id" int null;`);
    this.addSql(
      `alter table "feedback" add constraint "feedback_retraction_id_foreign" foreign key ("retraction_id") references "feedback_retraction" ("id") on delete set null;`,
    );
    this.addSql(`alter table "feedback" add "retracted_at" timestamptz null;`);
    // The retracting transaction: live models unlearn by it as they learn by `xid` (learning-cursor.ts).
    this.addSql(`alter table "feedback" add "retracted_xid" xid8 null;`);

    this.addSql(`create index "feedback_model_source_created_at_index" on "feedback" ("model", "source", "created_at");`);
    this.addSql(`create index "feedback_model_input_key_index" on "feedback" ("model", "input_key") where input_key is not null;`);
    this.addSql(`create index "feedback_quarantine_queue_index" on "feedback" ("model", "id") where quarantined and review is null and retracted_at is null;`);
    this.addSql(`create index "feedback_model_retracted_xid_index" on "feedback" ("model", "retracted_xid") where retracted_xid is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "feedback_model_retracted_xid_index";`);
    this.addSql(`drop index "feedback_quarantine_queue_index";`);
    this.addSql(`drop index "feedback_model_input_key_index";`);
    this.addSql(`drop index "feedback_model_source_created_at_index";`);
    this.addSql(`alter table "feedback" drop constraint "feedback_retraction_id_foreign";`);
    this.addSql(`alter table "feedback" drop column "retracted_xid", drop column "retracted_at", drop column "retraction_id";`);
    this.addSql(`drop table if exists "feedback_retraction";`);
    this.addSql(`alter table "feedback" drop constraint "feedback_review_check";`);
    this.addSql(
      `alter table "feedback" drop column "learned_at", drop column "reviewed_at", drop column "reviewed_by", drop column "review", drop column "quarantine_reason", drop column "quarantined", drop column "input_key", drop column "end_user_id", drop column "source";`,
    );
    this.addSql(`alter table "feedback" rename constraint "feedback_kind_check" to "feedback_source_check";`);
    this.addSql(`alter table "feedback" rename column "kind" to "source";`);
  }
}
