import { Migration } from '@mikro-orm/migrations';

/**
 * Who asked for each prediction (`prediction.source`: the principal's name, 'anonymous' without
 * one, as feedback records its own source), so the corrected accuracy can stratify by it: callers
 * label their predictions more or less selectively, and their inputs differ. Added to the
 * partitioned parent, the column reaches every partition; it is nullable without a default, so
 * adding it rewrites no row, and the predictions of before read as "not recorded" (null). The
 * covering index of the history and accuracy reads carries it too (rebuilt: those reads stay
 * index-only).
 *
 * The hourly rollup gains the same stratum: its rows so far hold predictions made before sources
 * were recorded, so they take '' (not recorded, as `coalesce(p.source, '')` reads it) and need no
 * rebuild.
 */
/**
 * A partitioned index names its partitions' indexes itself; the default partition's keeps the name
 * the partitioning migration gave it (its down() renames it back by that name).
 */
const RENAME_DEFAULT_PARTITION_INDEX = `
  do $$
  declare child text;
  begin
    select c.relname into child from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_index x on x.indexrelid = c.oid
      where i.inhparent = 'prediction_model_created_at_covering'::regclass and x.indrelid = 'prediction_default'::regclass;
    if child is not null and child <> 'prediction_default_model_created_at_covering' then
      execute format('alter index %I rename to prediction_default_model_created_at_covering', child);
    end if;
  end $$;`;

export class Migration20261202080000_prediction_source extends Migration {
  override name = 'Migration20261202080000_prediction_source';

  override up(): void | Promise<void> {
    this.addSql(`alter table "prediction" add column "source" varchar(200) null;`);
    this.addSql(`drop index "prediction_model_created_at_covering";`);
    this.addSql(
      `create index "prediction_model_created_at_covering" on "prediction" ("model", "created_at") include ("id", "model_version_id", "label", "probability", "feedback_requested", "source");`,
    );
    this.addSql(RENAME_DEFAULT_PARTITION_INDEX);
    this.addSql(`alter table "history_rollup" add column "source" varchar(200) not null default '';`);
    this.addSql(`alter table "history_rollup" drop constraint "history_rollup_pkey";`);
    this.addSql(
      `alter table "history_rollup" add constraint "history_rollup_pkey" primary key ("model", "hour", "model_version_id", "label", "confidence_bucket", "requested", "source");`,
    );
  }

  override down(): void | Promise<void> {
    // The rollup's rows of several sources of one stratum fold into one, as they were before sources.
    this.addSql(`alter table "history_rollup" drop constraint "history_rollup_pkey";`);
    this.addSql(`
      create temporary table "history_rollup_folded" as
        select model, hour, model_version_id, label, confidence_bucket, requested, sum(predictions)::int as predictions, sum(labelled)::int as labelled,
               sum(correct)::int as correct, sum(tp)::int as tp, sum(fp)::int as fp, sum(fn)::int as fn, sum(tn)::int as tn
        from "history_rollup" group by 1, 2, 3, 4, 5, 6;`);
    this.addSql(`delete from "history_rollup";`);
    this.addSql(`alter table "history_rollup" drop column "source";`);
    this.addSql(`insert into "history_rollup" select * from "history_rollup_folded";`);
    this.addSql(`drop table "history_rollup_folded";`);
    this.addSql(
      `alter table "history_rollup" add constraint "history_rollup_pkey" primary key ("model", "hour", "model_version_id", "label", "confidence_bucket", "requested");`,
    );
    this.addSql(`drop index "prediction_model_created_at_covering";`);
    this.addSql(
      `create index "prediction_model_created_at_covering" on "prediction" ("model", "created_at") include ("id", "model_version_id", "label", "probability", "feedback_requested");`,
    );
    this.addSql(RENAME_DEFAULT_PARTITION_INDEX);
    this.addSql(`alter table "prediction" drop column "source";`);
  }
}
