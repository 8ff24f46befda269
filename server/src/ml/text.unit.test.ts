import { describe, expect, it } from 'vitest';
import { MAX_TOKENS_PER_DOCUMENT, tokenize } from './text.js';

describe(tokenize.name, () => {
  const sut = tokenize;

  it('lowercases, splits on anything but letters and digits, and counts', () => {
    expect(sut('Win CASH now!!! win-win, call 0800_123 now.')).toEqual(
      new Map([
        ['win', 3],
        ['cash', 1],
        ['now', 2],
        ['call', 1],
        ['0800', 1],
        ['123', 1],
      ]),
    );
  });

  it('keeps non-Latin letters and digits together', () => {
    expect(sut('Größe ÜBER straße; Привет мир! 東京タワー ٣٤٥')).toEqual(
      new Map([
        ['größe', 1],
        ['über', 1],
        ['straße', 1],
        ['привет', 1],
        ['мир', 1],
        ['東京タワー', 1],
        ['٣٤٥', 1],
      ]),
    );
  });

  it('drops tokens shorter than 2 or longer than 40 characters', () => {
    const forty = 'a'.repeat(40);
    expect([...sut(`a b c ok ${forty} ${forty}x`).keys()]).toEqual(['ok', forty]);
  });

  it('measures length in code points, not UTF-16 units', () => {
    // Twenty astral letters are 40 UTF-16 units but 20 characters; one is 2 units but 1 character.
    const astral = '𝐀'.repeat(20).toLowerCase();
    expect(sut(`${astral} 𝐀`)).toEqual(new Map([[astral, 1]]));
    expect(sut('𝐀'.repeat(41)).size).toBe(0);
  });

  it('returns an empty map for text without tokens', () => {
    expect(sut('').size).toBe(0);
    expect(sut('!!! ... a - b').size).toBe(0);
  });

  it(`stops after the first ${MAX_TOKENS_PER_DOCUMENT} tokens`, () => {
    const text = `${'early '.repeat(MAX_TOKENS_PER_DOCUMENT - 1)}last x y z ${'late '.repeat(100_000)}`;
    const start = performance.now();
    const counts = sut(text);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(counts).toEqual(
      new Map([
        ['early', MAX_TOKENS_PER_DOCUMENT - 1],
        ['last', 1],
      ]),
    );
  });
});
