import { describe, expect, it } from 'vitest';
import { LENGTH_GROUPS, lengthGroups } from '../../src/backends/length-groups.js';

/** Padded tokens of running these groups, each padded to its longest row. */
const padded = (lengths: number[], groups: number[][]) => groups.reduce((a, g) => a + g.length * Math.max(...g.map((i) => lengths[i]!)), 0);

/** A deterministic mix of lengths from 5 to 200 (a linear congruential sequence). */
function mix(n: number, seed = 7): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 5 + (x % 196);
  });
}

describe('lengthGroups', () => {
  it('puts every row in exactly one group, each group sorted by length', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const lengths = mix(32, seed);
      const groups = lengthGroups(lengths);
      expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
      for (const g of groups) for (let k = 1; k < g.length; k++) expect(lengths[g[k]!]!).toBeGreaterThanOrEqual(lengths[g[k - 1]!]!);
    }
  });

  it('keeps texts of one length in one run', () => {
    expect(lengthGroups(new Array(32).fill(16))).toEqual([Array.from({ length: 32 }, (_, i) => i)]);
  });

  it('cuts the padding of a mixed batch, and each group keeps within its slack once past the minimum size', () => {
    for (const seed of [11, 12, 13]) {
      const lengths = mix(32, seed);
      const groups = lengthGroups(lengths);
      const real = lengths.reduce((a, b) => a + b, 0);
      // One run padded to the longest wastes most of its work on a 5-200 mix.
      expect(padded(lengths, [lengths.map((_, i) => i)])).toBeGreaterThan(1.6 * real);
      expect(padded(lengths, groups)).toBeLessThan(1.3 * real);
      for (const g of groups) {
        const ls = g.map((i) => lengths[i]!);
        const size = g.length * Math.max(...ls);
        const sum = ls.reduce((a, b) => a + b, 0);
        // Without its last (longest) row the group was below the minimum, or the slack holds.
        const before = (g.length - 1) * Math.max(...ls);
        expect(before < LENGTH_GROUPS.minTokens || size <= (1 + LENGTH_GROUPS.slack) * sum).toBe(true);
      }
    }
  });

  it('does not split short texts into tiny runs', () => {
    // Lengths 5..12: padding is relatively large, but the whole batch is below the minimum size.
    const lengths = [5, 12, 6, 11, 7, 10, 8, 9];
    expect(lengthGroups(lengths)).toHaveLength(1);
  });

  it('bounds a group by the token maximum, except a single longer row', () => {
    const groups = lengthGroups([100, 100, 100, 500], { slack: 10, minTokens: 0, maxTokens: 250 });
    expect(groups).toEqual([[0, 1], [2], [3]]);
  });
});
