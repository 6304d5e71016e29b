/**
 * @module config/units
 * Parsers for human-friendly sizes ("4GB", "512MiB", "60%") and durations ("5m", "30s",
 * "250ms", "0", "-1" = forever), used by the config.
 */

const BYTES: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Bytes from "4GB", "512MiB", "1e9" or a percentage of `total` ("60%"). Undefined if unparseable. */
export function parseBytes(s: string, total: number): number | undefined {
  const m = /^\s*([\d.]+(?:e\d+)?)\s*(%|[kmgt]?i?b)?\s*$/i.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  if (unit === '%') return n > 0 && n <= 100 ? Math.floor((total * n) / 100) : undefined;
  const mult = BYTES[unit];
  return mult === undefined ? undefined : Math.floor(n * mult);
}

const MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from "5m", "30s", "250ms", "0"; -1 for "-1", "forever" or "never". Undefined if unparseable. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim().toLowerCase();
  if (t === '-1' || t === 'forever' || t === 'never') return -1;
  const m = /^([\d.]+)\s*(ms|s|m|h)?$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]) * MS[m[2] ?? 's']!;
  return Number.isFinite(n) ? Math.round(n) : undefined;
}
