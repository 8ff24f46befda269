import { Migration } from '@mikro-orm/migrations';

export class Migration20261201201037_learning_cursor extends Migration {
  override name = 'Migration20261201201037_learning_cursor';

  override up(): void | Promise<void> {
    this.addSql(`alter table "model_version" add "trained_feedback_snapshot" text null;`);

    // Rows written before this migration get FrozenTransactionId (2), visible in every snapshot:
    // the versions that saw them still carry their id cursor (trained_through_feedback_id).
    this.addSql(`alter table "feedback" add "xid" xid8 not null default '2';`);
    this.addSql(`alter table "feedback" alter column "xid" set default pg_current_xact_id();`);
    this.addSql(`create index "feedback_model_xid_index" on "feedback" ("model", "xid");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "feedback_model_xid_index";`);
    this.addSql(`alter table "feedback" drop column "xid";`);

    this.addSql(`alter table "model_version" drop column "trained_feedback_snapshot";`);
  }
}
