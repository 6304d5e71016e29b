/**
 * @module resilience/cache
 * A response cache for deterministic calls (lru-cache), bounded in bytes and with a TTL. Keys
 * are the tool, the model with its revision, and the call's arguments normalized (object keys
 * sorted), so the same request always maps to the same entry. Hit ratio is exported.
 */
import { LRUCache } from 'lru-cache';

/** Cache settings. */
export interface CacheOptions {
  /** Total size in bytes (JSON length of the cached values); 0 disables the cache. */
  maxBytes: number;
  /** Entry lifetime (ms). */
  ttlMs: number;
}

/** JSON with object keys sorted, so equal arguments give equal keys. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export class ResponseCache {
  private readonly lru: LRUCache<string, Record<string, unknown>> | undefined;
  hits = 0;
  misses = 0;

  constructor(o: CacheOptions) {
    if (o.maxBytes > 0) {
      this.lru = new LRUCache<string, Record<string, unknown>>({
        maxSize: o.maxBytes,
        sizeCalculation: (v) => Math.max(1, JSON.stringify(v).length),
        ttl: o.ttlMs,
      });
    }
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** The cache key of a call. */
  key(tool: string, model: string, revision: string, args: Record<string, unknown>): string {
    return `${tool}\u0000${model}@${revision}\u0000${stableJson(args)}`;
  }

  get(key: string): Record<string, unknown> | undefined {
    if (!this.lru) return undefined;
    const v = this.lru.get(key);
    if (v) this.hits++;
    else this.misses++;
    return v;
  }

  set(key: string, value: Record<string, unknown>): void {
    this.lru?.set(key, value);
  }

  /** Drops every entry (after skills change: a name may now mean another model). */
  clear(): void {
    this.lru?.clear();
  }

  /** hits / (hits + misses), 0 before any lookup. */
  get hitRatio(): number {
    const n = this.hits + this.misses;
    return n === 0 ? 0 : this.hits / n;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }
}
