import { Migration } from '@mikro-orm/migrations';

/**
 * Audit sampling: whether a prediction was answered with `feedbackRequested` (chosen at random,
 * AUDIT_SAMPLE_RATE), so the accuracy of the requested ones is an unbiased sample. A constant
 * default: PostgreSQL adds the column without rewriting the table.
 */
export class Migration20261202012000_audit_sampling extends Migration {
  override name = 'Migration20261202012000_audit_sampling';

  override up(): void | Promise<void> {
    this.addSql(`alter table "prediction" add "feedback_requested" boolean not null default false;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "prediction" drop column "feedback_requested";`);
  }
}
