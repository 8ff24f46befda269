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
  createdAt: Date;
  /** The transaction that committed it (xid8 as text): online learning's cursor. */
  xid: string;
}

export interface FeedbackInput {
  predictionId: string;
  correct?: boolean | null;
  actual?: string | null;
  idempotencyKey?: string | null;
}

export interface OutcomeInput {
  predicted: string;
  actual: string;
  idempotencyKey?: string | null;
}
