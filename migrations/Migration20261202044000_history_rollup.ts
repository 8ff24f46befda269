import { Migration } from '@mikro-orm/migrations';

/**
 * Hourly rollups of metricsHistory (by prediction time), so a month or a year is read from a few
 * thousand rows instead of every prediction. `history_rollup` holds, per model, hour (UTC, from
 * the epoch) and stratum (version, predicted label, confidence bucket, audit flag) the counts the
 * raw query computes; `history_rollup_state.through` says which hours it covers (those before it).
 *
 * Predictions never change, but their feedback does, late and often: a label for last month's
 * prediction, a retraction, a release from quarantine. Statement triggers on `feedback` (one
 * insert per statement, not per row) mark the covered hours such a change touches in
 * `history_rollup_dirty`; the next refresh recomputes those hours. The shared advisory lock the
 * trigger takes, against the refresh's exclusive one, closes the race of a feedback transaction
 * that read the old `through` while a refresh moved it past its hour.
 */
export class Migration20261202044000_history_rollup extends Migration {
  override name = 'Migration20261202044000_history_rollup';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "history_rollup" ("model" varchar(64) not null, "hour" timestamptz not null, "model_version_id" int not null, "label" varchar(255) not null, "confidence_bucket" int not null, "requested" boolean not null, "predictions" int not null, "labelled" int not null, "correct" int not null, "tp" int not null, "fp" int not null, "fn" int not null, "tn" int not null, constraint "history_rollup_pkey" primary key ("model", "hour", "model_version_id", "label", "confidence_bucket", "requested"));`,
    );
    // `positive`: the label the confusion counts were taken against (a task that changes it is rebuilt).
    this.addSql(
      `create table "history_rollup_state" ("model" varchar(64) not null primary key, "through" timestamptz not null, "positive" varchar(255) not null);`,
    );
    this.addSql(
      `create table "history_rollup_dirty" ("model" varchar(64) not null, "hour" timestamptz not null, constraint "history_rollup_dirty_pkey" primary key ("model", "hour"));`,
    );
    this.addSql(`
      create function "history_rollup_touch"() returns trigger language plpgsql as $$
      begin
        perform pg_advisory_xact_lock_shared(hashtext('history_rollup'));
        insert into history_rollup_dirty (model, hour)
          select distinct p.model, date_bin('1 hour', p.created_at, timestamptz 'epoch')
          from changed_feedback f
          join prediction p on p.id = f.prediction_id
          join history_rollup_state s on s.model = p.model
          where p.created_at < s.through
        on conflict do nothing;
        return null;
      end $$;`);
    this.addSql(
      `create trigger "feedback_history_rollup_insert" after insert on "feedback" referencing new table as changed_feedback for each statement execute function "history_rollup_touch"();`,
    );
    this.addSql(
      `create trigger "feedback_history_rollup_update" after update on "feedback" referencing new table as changed_feedback for each statement execute function "history_rollup_touch"();`,
    );
    this.addSql(
      `create trigger "feedback_history_rollup_delete" after delete on "feedback" referencing old table as changed_feedback for each statement execute function "history_rollup_touch"();`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger "feedback_history_rollup_delete" on "feedback";`);
    this.addSql(`drop trigger "feedback_history_rollup_update" on "feedback";`);
    this.addSql(`drop trigger "feedback_history_rollup_insert" on "feedback";`);
    this.addSql(`drop function "history_rollup_touch"();`);
    this.addSql(`drop table if exists "history_rollup_dirty";`);
    this.addSql(`drop table if exists "history_rollup_state";`);
    this.addSql(`drop table if exists "history_rollup";`);
  }
}
