/**
 * @module vectors
 * Small float-vector helpers shared by the backends (pooling) and the tools (truncation,
 * similarity): L2 normalisation, cosine similarity, softmax, float32 rounding for JSON.
 */

/** L2-normalises a vector in place (a zero vector stays zero) and returns it. */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/** Powers of ten 10^0 .. 10^22, the ones a double holds exactly. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * Rounds float32 values to 9 significant decimal digits, as JSON-ready doubles. Nine digits make
 * every float32 round-trip exactly (`Math.fround` of the result gives the value back), and JSON
 * prints at most 9 digits instead of the 17 a float32 widened to a double needs (shorter to
 * write, parse and read as tokens). Arithmetic scaling, not `toPrecision`, which is much slower
 * per number; within one unit of the ninth digit of the decimal rounding, which still
 * round-trips (float32 spacing is at least 6e-8 relative; one ninth-digit unit is at most 1e-8).
 * Non-finite values pass through (JSON writes them as null).
 */
export function toJsonFloats(v: Float32Array): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    const a = Math.abs(x);
    if (a === 0 || !Number.isFinite(a)) {
      out[i] = x;
      continue;
    }
    const k = 8 - Math.floor(Math.log10(a)); // decimal places that leave 9 significant digits
    // Dividing a rounded integer by an exact power of ten gives the double nearest the decimal,
    // which is what JSON.stringify then prints in full.
    // Powers past 10^22 are inexact; such magnitudes (below 1e-14, above 1e31) take the slow path.
    if (k > 22 || k < -22) out[i] = Number(x.toPrecision(9));
    else out[i] = k >= 0 ? Math.round(x * POW10[k]!) / POW10[k]! : Math.round(x / POW10[-k]!) * POW10[-k]!;
  }
  return out;
}

/** Cosine similarity of two equal-length vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.max(Math.sqrt(na * nb), 1e-12);
}

/** Softmax of logits (shifted by their maximum, so large logits do not overflow). */
export function softmax(xs: readonly number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}
