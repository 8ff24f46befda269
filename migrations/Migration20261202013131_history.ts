import { Migration } from '@mikro-orm/migrations';

/**
 * metricsHistory over any range (an hour to a year): its reads are range scans by (model,
 * created_at) that need the version, label, confidence and audit flag of each prediction. The
 * covering index answers them from the index alone (index-only scan) and replaces the plain
 * (model, created_at) index, so a prediction still maintains one secondary index.
 */
export class Migration20261202013131_history extends Migration {
  override name = 'Migration20261202013131_history';

  override up(): void | Promise<void> {
    this.addSql(`drop index "prediction_model_created_at_index";`);
    this.addSql(
      `create index "prediction_model_created_at_covering" on "prediction" ("model", "created_at") include ("id", "model_version_id", "label", "probability", "feedback_requested");`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "prediction_model_created_at_covering";`);
    this.addSql(`create index "prediction_model_created_at_index" on "prediction" ("model", "created_at");`);
  }
}
