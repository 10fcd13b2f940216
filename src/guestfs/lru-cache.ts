/**
 * A small least-recently-used cache bounded by total weight (entry count by default).
 * Values are usually promises, so concurrent lookups of one key share one read.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; weight: number }>();
  private total = 0;

  constructor(private readonly maxWeight: number) {}

  get(key: K): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit); // Map keeps insertion order: re-inserting marks it most recent
    return hit.value;
  }

  set(key: K, value: V, weight = 1): void {
    const old = this.map.get(key);
    if (old) {
      this.total -= old.weight;
      this.map.delete(key);
    }
    this.map.set(key, { value, weight });
    this.total += weight;
    for (const [k, v] of this.map) {
      if (this.total <= this.maxWeight || this.map.size <= 1) break;
      this.map.delete(k);
      this.total -= v.weight;
    }
  }

  delete(key: K): void {
    const old = this.map.get(key);
    if (!old) return;
    this.total -= old.weight;
    this.map.delete(key);
  }

  /** Returns the cached value or computes, caches and returns it; a rejected promise is not kept. */
  getOrCreate(key: K, create: () => V & Promise<unknown>, weight = 1): V {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = create();
    this.set(key, value, weight);
    value.catch(() => this.delete(key));
    return value;
  }
}
