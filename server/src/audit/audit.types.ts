/** An audit entry as services, events and the API see it (a leaf module: it imports nothing). */
export interface AuditEntryRecord {
  /** bigserial, as text: entries are ordered by it. */
  id: string;
  /** What changed, dotted: `api-key.created`, `model.rolled-back`, `retrain.promoted`, ... */
  kind: string;
  /** Who did it: a principal's name, `admin`, `trainer`, `relearn` (the process itself), ... */
  actor: string;
  model: string | null;
  at: Date;
  /** What a reader needs to understand the change (never a secret). */
  details: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntryRecord, 'id' | 'at'>;

export interface AuditFilter {
  model?: string | null;
  kind?: string | null;
  actor?: string | null;
  from?: Date | null;
  to?: Date | null;
  /** Newest first, at most this many. */
  first: number;
}
