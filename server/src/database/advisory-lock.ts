import type { EntityManager } from '@mikro-orm/postgresql';

/** What is serialised, per model: the keys are part of the protocol between processes, so they never change. */
export type LockKey = `relearn:${'model' | 'retrain' | 'alert' | 'dataset' | 'registry' | 'partition'}:${string}`;

/**
 * Serialises the work on `key` across processes until the transaction `tx` ends (a
 * transaction-scoped advisory lock: released by the commit or rollback, never left behind).
 */
export async function lockFor(tx: EntityManager, key: LockKey): Promise<void> {
  await tx.execute(`select pg_advisory_xact_lock(hashtext(?))`, [key]);
}
