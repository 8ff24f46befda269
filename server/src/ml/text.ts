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

/** How a text feature becomes tokens (a task's text feature names one; `words` is the default). */
export const TOKENIZERS = ['words', 'mail'] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

export interface MailTokenizerOptions {
  /** Also count each pair of neighbouring words of the body as one token `a_b` (default true). */
  bigrams?: boolean;
}

export const TERM_FREQUENCIES = ['raw', 'binary', 'log'] as const;
/**
 * What a token's count in one text becomes: `raw` the count, `binary` 1 (present), `log`
 * 1 + ln(count) (scikit-learn's sublinear_tf). Applied to each text alone, so learning stays a sum
 * over rows and online equals batch.
 */
export type TermFrequency = (typeof TERM_FREQUENCIES)[number];

const HEADER_LINE = /^([A-Za-z][A-Za-z0-9-]{0,40}):[ \t]*(.*)$/;
/** Headers whose values say something about the message (others are routing noise: ids, dates, hops). */
const TOKENISED_HEADERS = new Set(['subject', 'from', 'to', 'reply-to', 'content-type', 'x-mailer', 'return-path', 'cc', 'organization', 'user-agent']);
const URL = /\b(?:https?:\/\/|www\.)([a-z0-9.-]+)[^\s<>"')\]]*/gi;
const EMAIL = /\b[a-z0-9._%+-]+@([a-z0-9.-]+\.[a-z]{2,})\b/gi;
const MONEY = /[$€£¥]\s?\d[\d,.]*|\b\d[\d,.]*\s?(?:usd|eur|dollars?|euros?|pounds?)\b/gi;
const NUMBER = /\b\d[\d,.]*\b/g;

/**
 * Tokens for e-mail and messages: what distinguishes mail beyond its words. The header block (the
 * lines before the first blank line, when the text starts with header fields) gives its field
 * names (`h:x-mailer`) and, for the informative fields, their words prefixed by the field
 * (`subject:free`); a URL becomes `url` and `url:<host>` (and `url:<registered domain>`), an
 * address `email` and `email:<domain>`, an amount of money `money` plus its magnitude
 * (`money:3digits`), any other number `num:<digits>`; words are lowercased letter/digit runs as
 * in `tokenize`, and (by default) each pair of neighbouring body words is one more token `a_b`.
 * All of it is counted in the task's hashed feature space, so memory stays bounded by
 * `featureBuckets` however many distinct tokens this produces; the same MAX_TOKENS_PER_DOCUMENT
 * and length bounds apply.
 */
export function tokenizeMail(text: string, options: MailTokenizerOptions = {}): Map<string, number> {
  const bigrams = options.bigrams ?? true;
  const counts = new Map<string, number>();
  let kept = 0;
  const add = (token: string): boolean => {
    counts.set(token, (counts.get(token) ?? 0) + 1);
    return ++kept < MAX_TOKENS_PER_DOCUMENT;
  };

  let body = text;
  const firstLine = text.slice(0, Math.min(text.length, 200)).split('\n', 1)[0]!;
  if (HEADER_LINE.test(firstLine) || firstLine.startsWith('From ')) {
    const end = text.search(/\r?\n\r?\n/);
    const headers = end < 0 ? text : text.slice(0, end);
    body = end < 0 ? '' : text.slice(end);
    let field = '';
    for (const line of headers.split(/\r?\n/)) {
      const m = HEADER_LINE.exec(line);
      let value: string;
      if (m) {
        field = m[1]!.toLowerCase();
        if (!add(`h:${field}`)) return counts;
        value = m[2]!;
      } else if (/^[ \t]/.test(line))
        value = line; // a folded continuation of the field above
      else continue;
      if (!TOKENISED_HEADERS.has(field)) continue;
      for (const token of specialTokens(value)) if (!add(token)) return counts;
      for (const word of words(stripSpecials(value))) if (!add(`${field}:${word}`)) return counts;
    }
  }
  for (const token of specialTokens(body)) if (!add(token)) return counts;
  let previous: string | undefined;
  for (const word of words(stripSpecials(body))) {
    if (!add(word)) return counts;
    if (bigrams && previous !== undefined && !add(`${previous}_${word}`)) return counts;
    previous = word;
  }
  return counts;
}

function* specialTokens(text: string): Generator<string> {
  for (const m of text.matchAll(URL)) {
    const host = m[1]!.toLowerCase().replace(/\.$/, '');
    yield 'url';
    if (host.length <= MAX_TOKEN_LENGTH) yield `url:${host}`;
    const domain = host.split('.').slice(-2).join('.');
    if (domain !== host) yield `url:${domain}`;
  }
  for (const m of text.matchAll(EMAIL)) {
    yield 'email';
    const domain = m[1]!.toLowerCase();
    if (domain.length <= MAX_TOKEN_LENGTH) yield `email:${domain}`;
  }
  for (const m of text.matchAll(MONEY)) {
    yield 'money';
    yield `money:${
      m[0]
        .replace(/[^\d.,]/g, '')
        .split(/[.,]\d{1,2}$/)[0]!
        .replace(/\D/g, '').length
    }digits`;
  }
}

/** The text without URLs, addresses and amounts (they became their own tokens), numbers as `num:<digits>`. */
function stripSpecials(text: string): string {
  return text
    .replace(URL, ' ')
    .replace(EMAIL, ' ')
    .replace(MONEY, ' ')
    .replace(NUMBER, (n) => ` num${n.replace(/\D/g, '').length}d `);
}

function* words(text: string): Generator<string> {
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const token = match[0];
    const units = token.length;
    const length = units <= MAX_TOKEN_LENGTH && units >= MIN_TOKEN_LENGTH * 2 ? units : codePoints(token);
    if (length < MIN_TOKEN_LENGTH || length > MAX_TOKEN_LENGTH) continue;
    yield token;
  }
}

/** The tokenizer a text feature names, with its term-frequency transform. */
export function tokenizerFor(
  name: TokenizerName,
  options: MailTokenizerOptions & { termFrequency?: TermFrequency } = {},
): (text: string) => Map<string, number> {
  const base = name === 'mail' ? (text: string) => tokenizeMail(text, options) : tokenize;
  const tf = options.termFrequency ?? 'raw';
  if (tf === 'raw') return base;
  return (text) => {
    const counts = base(text);
    for (const [token, n] of counts) counts.set(token, tf === 'binary' ? 1 : 1 + Math.log(n));
    return counts;
  };
}
