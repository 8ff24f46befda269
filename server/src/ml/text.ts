/** Tokens shorter than this are mostly noise ("a", stray digits). */
export const MIN_TOKEN_LENGTH = 2;
/** Longer runs are usually ids, hashes or base64, which never recur and only bloat the vocabulary. */
export const MAX_TOKEN_LENGTH = 40;
/** Bounds the work per document so one huge text cannot stall the predict path. */
export const MAX_TOKENS_PER_DOCUMENT = 20_000;

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Bag of words: lowercased runs of Unicode letters/digits, counted per token. Lengths are in
 * code points so non-BMP scripts are not penalised; only the first MAX_TOKENS_PER_DOCUMENT kept
 * tokens count.
 */
export function tokenize(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let kept = 0;
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const token = match[0];
    // UTF-16 length bounds the code point count from above and, halved, from below; only count
    // code points in the rare ambiguous case.
    const units = token.length;
    const length = units <= MAX_TOKEN_LENGTH && units >= MIN_TOKEN_LENGTH * 2 ? units : codePoints(token);
    if (length < MIN_TOKEN_LENGTH || length > MAX_TOKEN_LENGTH) continue;
    counts.set(token, (counts.get(token) ?? 0) + 1);
    if (++kept >= MAX_TOKENS_PER_DOCUMENT) break;
  }
  return counts;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
