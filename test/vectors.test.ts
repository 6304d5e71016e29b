/**
 * The float32 -> JSON rounding used by `embed`: every value must come back exactly through
 * JSON and Math.fround, in at most 9 significant digits, compared against the independent
 * reference `Number(x.toPrecision(9))`.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/prng.js';
import { toJsonFloats } from '../src/vectors.js';
import { relative } from 'node:path';

/** Significant digits JSON prints for a number. */
function digits(x: number): number {
  const m = /^-?(\d+)(?:\.(\d+))?(?:e[+-]?\d+)?$/.exec(String(x));
  if (!m) throw new Error(`unexpected number text ${String(x)}`);
  return (m[1]! + (m[2] ?? '')).replace(/^0+/, '').replace(/0+$/, '').length || 1;
}

function check(values: Float32Array): void {
  const out = toJsonFloats(values);
  const back = JSON.parse(JSON.stringify(out)) as number[];
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    expect(Math.fround(back[i]!), `value ${x}`).toBe(x);
    expect(digits(out[i]!), `digits of ${out[i]} for ${x}`).toBeLessThanOrEqual(9);
    // Within one unit of the 9th digit of the exact decimal rounding (the toPrecision reference).
    const ref = Number(x.toPrecision(9));
    expect(Math.abs(out[i]! - ref)).toBeLessThanOrEqual(Math.abs(ref) * 1.0000001e-8);
  }
}

describe('toJsonFloats', () => {
  it('round-trips random embedding-like float32 values in at most 9 digits', () => {
    const rnd = mulberry32(7);
    const v = new Float32Array(100_000).map(() => (rnd() - 0.5) * 0.3);
    check(v);
  });

  it('round-trips values across the whole float32 range, including near powers of ten', () => {
    const rnd = mulberry32(11);
    const v: number[] = [];
    for (let e = -45; e <= 38; e++) {
      const p = Math.fround(10 ** e);
      // The float32 neighbours of each power of ten, where a log10 estimate is most fragile.
      const bits = new Uint32Array(new Float32Array([p]).buffer)[0]!;
      for (let d = -3; d <= 3; d++) v.push(new Float32Array(new Uint32Array([bits + d]).buffer)[0]!);
      for (let j = 0; j < 200; j++) v.push((rnd() * 9 + 1) * 10 ** e * (rnd() < 0.5 ? -1 : 1));
    }
    check(new Float32Array(v.filter((x) => Number.isFinite(Math.fround(x)) && Math.fround(x) !== 0)));
  });

  it('keeps zero, signed zero and non-finite values as they are', () => {
    const out = toJsonFloats(new Float32Array([0, -0, Infinity, Number.NaN]));
    expect(Object.is(out[0], 0)).toBe(true);
    expect(Object.is(out[1], -0)).toBe(true);
    expect(out[2]).toBe(Infinity);
    expect(out[3]).toBeNaN();
  });
});

describe('the generated models cache key', () => {
  it('covers the generator and the PRNG, not the server code that formats or pools vectors', async () => {
    const { generatorSources } = await import('../tools/modelgen/cache.js');
    const files = generatorSources().map((f) => relative(process.cwd(), f));
    expect(files).toContain('src/prng.ts');
    expect(files.some((f) => f.startsWith('tools/modelgen/'))).toBe(true);
    expect(files.filter((f) => f.startsWith('src/'))).toEqual(['src/prng.ts']);
  });
});
