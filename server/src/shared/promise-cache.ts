/**
 * Memoised promises: one load per key shared by every caller for `ttlMs` from when it started
 * (null: until deleted), forgotten as soon as it rejects so the next call tries again.
 * Written by hand (a few lines): lru-cache's fetch() cannot hold null results and starts its TTL
 * when the value resolves, not when the shared load started.
 */
export class PromiseCache<K, V> {
  private readonly entries = new Map<K, { value: Promise<V>; at: number }>();

  constructor(private readonly ttlMs: number | null = null) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && (this.ttlMs === null || Date.now() - cached.at < this.ttlMs)) return cached.value;
    const value = load();
    const entry = { value, at: Date.now() };
    this.entries.set(key, entry);
    // Only this entry: a newer load of the same key may have replaced it meanwhile.
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
