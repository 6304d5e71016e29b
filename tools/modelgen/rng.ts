/**
 * @module rng
 * Seeded, deterministic random numbers for generated weights. The same seed always yields
 * the same model bytes, so fixtures are reproducible and references can be recomputed.
 */

export { mulberry32 } from '../../src/prng.js';

/** Normal(0, std) samples via Box-Muller, from a uniform source. */
export function normalFiller(uniform: () => number): (out: Float32Array, std: number) => void {
  return (out, std) => {
    for (let i = 0; i < out.length; i += 2) {
      const u1 = Math.max(uniform(), 1e-12);
      const u2 = uniform();
      const r = Math.sqrt(-2 * Math.log(u1)) * std;
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
  };
}
