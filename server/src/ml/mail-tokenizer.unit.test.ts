import { describe, expect, it } from 'vitest';
import { MAX_TOKENS_PER_DOCUMENT, tokenizeMail, tokenizerFor } from './text.js';

describe(tokenizeMail.name, () => {
  const mail = [
    'From: "Deals" <promo@cheap-pills.example.com>',
    'Subject: FREE offer, save $1,250.00 today',
    'X-Mailer: MassMail 3.1',
    'Message-Id: <abc123@host>',
    '',
    'Visit http://www.cheap-pills.example.com/buy?id=7 or write to sales@cheap-pills.example.com.',
    'Call 0800 555 1234 now',
  ].join('\n');

  it('keeps header fields, URLs, addresses, money and numbers as their own tokens', () => {
    const tokens = tokenizeMail(mail);
    for (const t of ['h:from', 'h:subject', 'h:x-mailer', 'h:message-id', 'subject:free', 'subject:offer', 'from:deals', 'x-mailer:massmail']) {
      expect(tokens.has(t), t).toBe(true);
    }
    expect(tokens.get('url')).toBe(1);
    expect(tokens.has('url:www.cheap-pills.example.com')).toBe(true);
    expect(tokens.has('url:example.com')).toBe(true);
    expect(tokens.get('email')).toBe(2); // From header and body
    expect(tokens.has('email:cheap-pills.example.com')).toBe(true);
    expect(tokens.get('money')).toBe(1);
    expect(tokens.has('money:4digits')).toBe(true);
    expect(tokens.get('num4d')).toBe(2); // 0800 and 1234
    expect(tokens.has('num3d')).toBe(true);
    // Routing headers give their name, not their values.
    expect([...tokens.keys()].some((t) => t.includes('abc123'))).toBe(false);
  });

  it('counts neighbouring body words as bigrams, unless told not to', () => {
    expect(tokenizeMail(mail).get('call_num4d')).toBe(1);
    expect(tokenizeMail('Plain text, no headers here').get('no_headers')).toBe(1);
    expect([...tokenizeMail(mail, { bigrams: false }).keys()].some((t) => t.includes('_'))).toBe(false);
  });

  it('stays within MAX_TOKENS_PER_DOCUMENT', () => {
    const text = Array.from({ length: MAX_TOKENS_PER_DOCUMENT }, (_, i) => `w${i}`).join(' ');
    const total = [...tokenizeMail(text).values()].reduce((s, n) => s + n, 0);
    expect(total).toBe(MAX_TOKENS_PER_DOCUMENT);
  });

  it('binary and log term frequencies transform each text alone', () => {
    expect(tokenizerFor('words', { termFrequency: 'binary' })('spam spam spam eggs')).toEqual(
      new Map([
        ['spam', 1],
        ['eggs', 1],
      ]),
    );
    expect(tokenizerFor('words', { termFrequency: 'log' })('spam spam eggs').get('spam')).toBeCloseTo(1 + Math.log(2), 15);
  });
});
