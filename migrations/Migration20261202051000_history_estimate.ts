import { Migration } from '@mikro-orm/migrations';

/**
 * The estimate each hour had when it closed: the estimated accuracy of its then unlabelled
 * predictions (calibrated confidence), kept as it was, so history can show "estimated then" beside
 * the accuracy its labels realise later. Written once per hour (never updated); `made_at` says when.
 */
export class Migration20261202051000_history_estimate extends Migration {
  override name = 'Migration20261202051000_history_estimate';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "history_estimate" ("model" varchar(64) not null, "hour" timestamptz not null, "made_at" timestamptz not null default now(), "unlabelled" int not null, "estimated" double precision null, "lower" double precision null, "upper" double precision null, constraint "history_estimate_pkey" primary key ("model", "hour"));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "history_estimate";`);
  }
}
