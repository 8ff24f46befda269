/** One training/evaluation example. `source` records provenance (corpus group, file name, generator). */
export interface LabelledRow<I> {
  input: I;
  label: string;
  source?: string;
}

/** One card transaction, as seen by the fraud-detection task. */
export interface FraudInput {
  amount: number;
  /** Local hour of the transaction, integer 0-23. */
  hour: number;
  /** Integer 0-6, 0 = Sunday (same convention as Date#getDay). */
  dayOfWeek: number;
  merchantCategory: string;
  /** Amount of the customer's previous transaction. */
  previousAmount: number;
  /** Hours since the customer's previous transaction. */
  timeSinceLast: number;
}

/** Input of the text tasks (spam, threat detection, any labelled text file). */
export interface TextInput {
  text: string;
}
