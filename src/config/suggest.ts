/**
 * @module config/suggest
 * "Did you mean" for mistyped flags, commands and names: the closest candidate by edit distance,
 * when it is close enough to be a likely typo rather than a different word.
 */

/** Edit distance between two short strings, a swap of neighbours counting as one edit (`prot` -> `port`). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `input`: the shortest one it starts or is part of (`minilm` ->
 * `all-minilm-l6-v2`), else one within a third of its length in edits (`prot` -> `port`);
 * undefined when none is that close.
 */
export function nearest(input: string, candidates: Iterable<string>): string | undefined {
  const all = [...candidates];
  const lower = input.toLowerCase();
  const prefixed = all.filter((c) => c.toLowerCase().startsWith(lower)).sort((a, b) => a.length - b.length);
  if (lower.length >= 2 && prefixed.length > 0) return prefixed[0];
  const containing = all.filter((c) => c.toLowerCase().includes(lower)).sort((a, b) => a.length - b.length);
  if (lower.length >= 4 && containing.length > 0) return containing[0];
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(input.length / 3)) + 1; // strictly below this
  for (const c of all) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
