import { Migration } from '@mikro-orm/migrations';

/**
 * Idempotency keys are scoped to the principal (feedback.source), as Stripe scopes them to the
 * account: an outcome recorded with key K by one client no longer makes another client's
 * feedback with key K a CONFLICT. The same principal reusing K for something else still is.
 */
export class Migration20261202020000_idempotency_scope extends Migration {
  override name = 'Migration20261202020000_idempotency_scope';

  override up(): void | Promise<void> {
    this.addSql(`alter table "feedback" drop constraint "feedback_idempotency_key_unique";`);
    this.addSql(`alter table "feedback" add constraint "feedback_source_idempotency_key_unique" unique ("source", "idempotency_key");`);
  }

  override down(): void | Promise<void> {
    // Fails if two sources have since used the same key: that is the state the old constraint forbade.
    this.addSql(`alter table "feedback" drop constraint "feedback_source_idempotency_key_unique";`);
    this.addSql(`alter table "feedback" add constraint "feedback_idempotency_key_unique" unique ("idempotency_key");`);
  }
}
