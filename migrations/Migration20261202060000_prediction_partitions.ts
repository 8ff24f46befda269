import { Migration } from '@mikro-orm/migrations';

/**
 * `prediction` becomes a table range-partitioned by its primary key. New ids are UUIDv7 (time
 * first, shared/uuid-v7.ts), so a range of ids is a range of time and every foreign key, join and
 * lookup by id stays as it was; database/partitions.ts creates the time partitions ahead of time
 * and drops old ones (PREDICTION_RETENTION_DAYS). The existing table is converted in place: it is
 * renamed and attached, rows untouched, as the DEFAULT partition, which keeps the random (v4) ids
 * of before and catches any row no time partition covers (so an insert never fails for want of a
 * partition). Its indexes have the partitioned indexes' definitions, so attaching adopts them
 * instead of building new ones. The foreign keys on and to `prediction` are re-created on the
 * partitioned table (feedback's keeps `on delete set null`).
 */
export class Migration20261202060000_prediction_partitions extends Migration {
  override name = 'Migration20261202060000_prediction_partitions';

  override up(): void | Promise<void> {
    this.addSql(`alter table "feedback" drop constraint "feedback_prediction_id_foreign";`);
    this.addSql(`alter table "prediction" drop constraint "prediction_model_version_id_foreign";`);
    this.addSql(`alter table "prediction" rename to "prediction_default";`);
    this.addSql(`alter index "prediction_pkey" rename to "prediction_default_pkey";`);
    this.addSql(`alter index "prediction_model_created_at_covering" rename to "prediction_default_model_created_at_covering";`);
    // The same columns, in the same order, with their defaults (attaching requires the same columns).
    this.addSql(`create table "prediction" (like "prediction_default" including defaults) partition by range ("id");`);
    this.addSql(`alter table "prediction" add constraint "prediction_pkey" primary key ("id");`);
    this.addSql(
      `create index "prediction_model_created_at_covering" on "prediction" ("model", "created_at") include ("id", "model_version_id", "label", "probability", "feedback_requested");`,
    );
    this.addSql(`alter table "prediction" attach partition "prediction_default" default;`);
    this.addSql(
      `alter table "prediction" add constraint "prediction_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id");`,
    );
    this.addSql(
      `alter table "feedback" add constraint "feedback_prediction_id_foreign" foreign key ("prediction_id") references "prediction" ("id") on delete set null;`,
    );
  }

  override down(): void | Promise<void> {
    // Every row back into one plain table: the default partition, detached, takes the time partitions' rows.
    this.addSql(`alter table "feedback" drop constraint "feedback_prediction_id_foreign";`);
    this.addSql(`alter table "prediction" detach partition "prediction_default";`);
    this.addSql(`alter table "prediction_default" drop constraint if exists "prediction_model_version_id_foreign";`);
    this.addSql(`insert into "prediction_default" select * from "prediction";`);
    this.addSql(`drop table "prediction" cascade;`);
    this.addSql(`alter table "prediction_default" rename to "prediction";`);
    this.addSql(`alter index "prediction_default_pkey" rename to "prediction_pkey";`);
    this.addSql(`alter index "prediction_default_model_created_at_covering" rename to "prediction_model_created_at_covering";`);
    this.addSql(
      `alter table "prediction" add constraint "prediction_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id");`,
    );
    this.addSql(
      `alter table "feedback" add constraint "feedback_prediction_id_foreign" foreign key ("prediction_id") references "prediction" ("id") on delete set null;`,
    );
  }
}
