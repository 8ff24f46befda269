/** Feedback as services, events and the API see it (a leaf module: it imports nothing). */
export interface FeedbackRecord {
  id: number;
  model: string;
  predictionId: string | null;
  modelVersionId: number | null;
  predicted: string;
  actual: string;
  correct: boolean;
  idempotencyKey: string | null;
  /** Who taught it: the principal's name, or 'anonymous'. */
  source: string;
  /** The end user the caller named, if any (informational; trust is per source). */
  endUserId: string | null;
  /** Held back by the trust gate (teaches nothing, counts in no headline metric) until released. */
  quarantined: boolean;
  quarantineReason: string | null;
  /** What a reviewer decided about a quarantined row (null: not reviewed). */
  review: 'released' | 'rejected' | null;
  /** Set when an admin retracted it: it teaches nothing and counts nowhere from then on. */
  retractedAt: Date | null;
  createdAt: Date;
  /** The transaction that committed it (xid8 as text): online learning's cursor. */
  xid: string;
}

export interface FeedbackInput {
  predictionId: string;
  correct?: boolean | null;
  actual?: string | null;
  idempotencyKey?: string | null;
  /** An end user of the calling principal, recorded beside the source. */
  endUserId?: string | null;
}

export interface OutcomeInput {
  predicted: string;
  actual: string;
  idempotencyKey?: string | null;
  endUserId?: string | null;
}

/** Who is teaching: the source the gate judges (the principal's name, else 'anonymous'). */
export interface Teacher {
  source: string;
  /** Configured trusted (TRUSTED_SOURCES) or the admin: passes the gate at once. */
  trusted: boolean;
}

export const ANONYMOUS_SOURCE = 'anonymous';
