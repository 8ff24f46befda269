// With the `u` flag a string is read by code points: a paired surrogate is one astral code point,
// so only an unpaired half is in the Surrogate category.
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/**
 * Why PostgreSQL cannot store `value`, or null if it can. `text` and `jsonb` cannot hold U+0000,
 * and `jsonb` refuses an unpaired UTF-16 surrogate (`\ud800`), which node-postgres would otherwise
 * silently turn into U+FFFD in `text`. Strings a client sends to be stored are checked with this,
 * so such text is that client's BAD_USER_INPUT and never a failed statement shared with others' rows.
 */
export function unstorableTextReason(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (UNPAIRED_SURROGATE.test(value)) return 'must be well-formed Unicode (no unpaired surrogate such as \\ud800)';
  return null;
}
