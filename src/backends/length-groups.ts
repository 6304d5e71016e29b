/**
 * @module backends/length-groups
 * Length-aware batching for encoders. A batch of texts runs padded to its longest text, so one
 * long sentence among short ones multiplies the work of the whole batch. The texts of a batch
 * are therefore run as groups of similar token length: sorted by length, a group grows while
 * its padding stays small relative to its real tokens, or while the group is still too small
 * to run efficiently on its own (tiny runs waste more in per-run cost than padding does).
 */

/** Grouping settings. */
export interface LengthGroupOptions {
  /** Padded tokens a group may hold beyond its real tokens, as a fraction of them. */
  slack: number;
  /** Below this many padded tokens a group always takes the next text. */
  minTokens: number;
  /** A group never exceeds this many padded tokens (unless one text alone does). */
  maxTokens: number;
}

/** Defaults: a quarter of padding at most, and runs of at least a few hundred tokens. */
export const LENGTH_GROUPS: LengthGroupOptions = { slack: 0.25, minTokens: 384, maxTokens: 16_384 };

/**
 * Splits rows with these token lengths into groups (lists of row indices, each sorted by
 * length); every row is in exactly one group. Equal inputs give equal groups.
 */
export function lengthGroups(lengths: readonly number[], o: LengthGroupOptions = LENGTH_GROUPS): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const groups: number[][] = [];
  let group: number[] = [];
  let real = 0;
  for (const i of order) {
    const len = lengths[i]!;
    // Sorted ascending, so this row would be the group's longest: the padded size is n * len.
    const padded = (group.length + 1) * len;
    const fits = padded <= o.maxTokens && (group.length * len < o.minTokens || padded <= (1 + o.slack) * (real + len));
    if (group.length > 0 && !fits) {
      groups.push(group);
      group = [];
      real = 0;
    }
    group.push(i);
    real += len;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
