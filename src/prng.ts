/**
 * @module prng
 * A seeded PRNG, shared by sampled generation and the model generator's weights. It lives alone
 * because the generator's cache key hashes this file: a change anywhere else in src/ must not
 * rebuild every generated model.
 */

/** A seeded PRNG (mulberry32) returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
