import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PromiseCache } from './promise-cache.js';

describe(PromiseCache.name, () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('shares one load per key within the TTL and loads again after it', async () => {
    const sut = new PromiseCache<string, number>(100);
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    expect(await sut.get('a', load)).toBe(1);
    vi.advanceTimersByTime(99);
    expect(await sut.get('a', load)).toBe(1);
    expect(await sut.get('b', load)).toBe(2);
    vi.advanceTimersByTime(1);
    expect(await sut.get('a', load)).toBe(3);
  });

  it('shares a load still in flight, and keeps null results', async () => {
    const sut = new PromiseCache<number, string | null>();
    let resolve!: (v: string | null) => void;
    let loads = 0;
    const load = () => (loads++, new Promise<string | null>((r) => (resolve = r)));
    const first = sut.get(1, load);
    const second = sut.get(1, load);
    resolve(null);
    expect(await first).toBeNull();
    expect(await second).toBeNull();
    vi.advanceTimersByTime(1_000_000);
    expect(await sut.get(1, load)).toBeNull();
    expect(loads).toBe(1);
  });

  it('forgets a load that rejected, so the next call retries', async () => {
    const sut = new PromiseCache<string, number>(1000);
    await expect(sut.get('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await sut.get('a', () => Promise.resolve(7))).toBe(7);
  });

  it('a rejection of a replaced load does not drop its replacement', async () => {
    const sut = new PromiseCache<string, number>(10);
    let reject!: (e: Error) => void;
    const stale = sut.get('a', () => new Promise<number>((_, r) => (reject = r)));
    vi.advanceTimersByTime(10);
    expect(await sut.get('a', () => Promise.resolve(2))).toBe(2);
    reject(new Error('late'));
    await expect(stale).rejects.toThrow('late');
    expect(await sut.get('a', () => Promise.resolve(3))).toBe(2);
  });

  it('delete and clear drop entries at once', async () => {
    const sut = new PromiseCache<string, number>();
    let n = 0;
    const load = () => Promise.resolve(++n);
    await sut.get('a', load);
    await sut.get('b', load);
    sut.delete('a');
    expect(await sut.get('a', load)).toBe(3);
    sut.clear();
    expect(await sut.get('b', load)).toBe(4);
  });
});
