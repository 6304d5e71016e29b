/**
 * @module quantize
 * Quantized variants of a generated graph, written as the Hub's ONNX repos ship them, by
 * rewriting every MatMul whose weight is a 2-D float initializer:
 * - `q8` (`model_quantized.onnx`): dynamic int8, as onnxruntime's `quantize_dynamic` writes it:
 *   DynamicQuantizeLinear on the activation (uint8, per tensor), MatMulInteger with the weight
 *   as int8 (symmetric, per output column), then the int32 product rescaled by both scales.
 * - `q4` (`model_q4.onnx`): `com.microsoft` MatMulNBits, 4 bits, blocks of 32 along K,
 *   symmetric (the default zero point 8), one float scale per block, as onnxruntime's
 *   MatMul4BitsQuantizer writes it.
 * Everything else (embeddings, norms, attention arithmetic) stays float32, as in those exports.
 * - `fp16` (`model_fp16.onnx`): every float tensor in half precision, inputs, outputs and the
 *   KV cache included, as onnxconverter's float16 conversion writes it (values beyond the half
 *   range, like the attention mask's fill score, saturate at ±65504).
 * The quantized weights are returned dequantized, so a test can bound the error they introduce.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type ITensor = onnxProto.onnx.ITensorProto;
type INode = onnxProto.onnx.INodeProto;

export type QuantKind = 'q8' | 'q4' | 'fp16';

/** Block size of the q4 variant. */
export const Q4_BLOCK = 32;

/** What a quantization pass produced. */
export interface Quantized {
  bytes: Uint8Array;
  /** Rewritten weights, dequantized ([K, N] row-major, like the originals). */
  dequantized: Map<string, Float32Array>;
}

function floatData(t: ITensor): Float32Array {
  const raw = t.rawData!;
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return new Float32Array(copy.buffer);
}

/** Per-column symmetric int8: w ≈ q * scale[n], q in [-127, 127]. */
function int8Columns(w: Float32Array, K: number, N: number) {
  const q = new Int8Array(K * N);
  const scale = new Float32Array(N);
  const deq = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(w[k * N + n]!));
    const s = max > 0 ? max / 127 : 1;
    scale[n] = s;
    for (let k = 0; k < K; k++) {
      const v = Math.max(-127, Math.min(127, Math.round(w[k * N + n]! / s)));
      q[k * N + n] = v;
      deq[k * N + n] = v * s;
    }
  }
  return { q, scale, deq };
}

/** MatMulNBits' layout: [N, blocks, 16] packed nibbles (low nibble first), scales [N * blocks]. */
function q4Blocks(w: Float32Array, K: number, N: number) {
  const blocks = Math.ceil(K / Q4_BLOCK);
  const packed = new Uint8Array(N * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(N * blocks);
  const deq = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let max = 0;
      for (let i = 0; i < Q4_BLOCK && b * Q4_BLOCK + i < K; i++) max = Math.max(max, Math.abs(w[(b * Q4_BLOCK + i) * N + n]!));
      // Symmetric around the default zero point 8: codes 0..15 stand for -8..7 steps.
      const s = max > 0 ? max / 7 : 1;
      scales[n * blocks + b] = s;
      for (let i = 0; i < Q4_BLOCK; i++) {
        const k = b * Q4_BLOCK + i;
        const code = k < K ? Math.max(0, Math.min(15, Math.round(w[k * N + n]! / s) + 8)) : 8;
        if (k < K) deq[k * N + n] = (code - 8) * s;
        const byte = (n * blocks + b) * (Q4_BLOCK / 2) + (i >> 1);
        packed[byte] = packed[byte]! | (i % 2 === 0 ? code : code << 4);
      }
    }
  }
  return { packed, scales, blocks, deq };
}

const tensor = (name: string, dims: number[], dataType: number, data: ArrayBufferView): ITensor => ({
  name,
  dims,
  dataType,
  rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});

/** float32 bit patterns -> IEEE half (round to nearest even), saturating at ±65504 (NaN stays NaN). */
function halfBits(i: number): number {
  const sign = (i >>> 16) & 0x8000;
  const exp = ((i >>> 23) & 0xff) - 127 + 15;
  const man = i & 0x7fffff;
  if (((i >>> 23) & 0xff) === 0xff && man !== 0) return sign | 0x7e00;
  if (exp >= 31) return sign | 0x7bff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - exp;
    const half = m >> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  let h = sign | (exp << 10) | (man >> 13);
  const rest = man & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  // Rounding up the largest finite half would reach infinity: saturate instead.
  return (h & 0x7fff) === 0x7c00 ? sign | 0x7bff : h;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float32 -> IEEE half (round to nearest even), saturating at ±65504. */
export function toHalf(v: number): number {
  F32[0] = v;
  return halfBits(U32[0]!);
}

/** A float32 array as IEEE halves. */
export function toHalfArray(f: Float32Array): Uint16Array {
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = halfBits(bits[i]!);
  return out;
}

/** Every IEEE half bit pattern's value, computed once. */
const HALF_TABLE = Float32Array.from({ length: 65536 }, (_, b) => {
  const sign = b & 0x8000 ? -1 : 1;
  const exp = (b >> 10) & 0x1f;
  const man = b & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
});

/** IEEE half -> number. */
export function fromHalf(h: number): number {
  return HALF_TABLE[h & 0xffff]!;
}

/** The model in half precision throughout; the rounded weights are returned as floats. */
function toFp16(bytes: Uint8Array): Quantized {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const T = onnx.TensorProto.DataType;
  const dequantized = new Map<string, Float32Array>();
  for (const t of graph.initializer!) {
    if (t.dataType !== T.FLOAT) continue;
    const h = toHalfArray(floatData(t));
    const back = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) back[i] = fromHalf(h[i]!);
    dequantized.set(t.name!, back);
    t.rawData = new Uint8Array(h.buffer);
    t.dataType = T.FLOAT16;
  }
  for (const v of [...graph.input!, ...graph.output!])
    if (v.type!.tensorType!.elemType === T.FLOAT) v.type!.tensorType!.elemType = T.FLOAT16;
  for (const node of graph.node!)
    for (const a of node.attribute ?? []) if (node.opType === 'Cast' && a.name === 'to' && Number(a.i) === T.FLOAT) a.i = T.FLOAT16;
  return { bytes: onnx.ModelProto.encode(model).finish(), dequantized };
}

/** Rewrites a float32 model (ONNX bytes) into the `kind` variant. */
export function quantizeModel(bytes: Uint8Array, kind: QuantKind): Quantized {
  if (kind === 'fp16') return toFp16(bytes);
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const T = onnx.TensorProto.DataType;
  const inits = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const replaced = new Set<string>();
  const dequantized = new Map<string, Float32Array>();
  const nodes: INode[] = [];
  let n = 0;
  for (const node of graph.node!) {
    const w = node.opType === 'MatMul' ? inits.get(node.input![1]!) : undefined;
    if (!w || w.dataType !== T.FLOAT || w.dims!.length !== 2) {
      nodes.push(node);
      continue;
    }
    const [K, N] = w.dims!.map(Number) as [number, number];
    const [a] = node.input as [string];
    const out = node.output![0]!;
    const id = `${w.name}_${kind}_${n++}`;
    replaced.add(w.name!);
    if (kind === 'q8') {
      const { q, scale, deq } = int8Columns(floatData(w), K, N);
      dequantized.set(w.name!, deq);
      graph.initializer!.push(tensor(`${id}_q`, [K, N], T.INT8, q), tensor(`${id}_scale`, [N], T.FLOAT, scale));
      nodes.push(
        { opType: 'DynamicQuantizeLinear', input: [a], output: [`${id}_aq`, `${id}_as`, `${id}_azp`], name: `${id}_dql` },
        { opType: 'MatMulInteger', input: [`${id}_aq`, `${id}_q`, `${id}_azp`], output: [`${id}_i32`], name: `${id}_mmi` },
        { opType: 'Cast', input: [`${id}_i32`], output: [`${id}_f`], name: `${id}_cast`, attribute: [{ name: 'to', type: 2, i: T.FLOAT }] },
        { opType: 'Mul', input: [`${id}_as`, `${id}_scale`], output: [`${id}_s`], name: `${id}_scales` },
        { opType: 'Mul', input: [`${id}_f`, `${id}_s`], output: [out], name: `${id}_rescale` },
      );
    } else {
      const { packed, scales, blocks, deq } = q4Blocks(floatData(w), K, N);
      dequantized.set(w.name!, deq);
      graph.initializer!.push(
        tensor(`${id}_B`, [N, blocks, Q4_BLOCK / 2], T.UINT8, packed),
        tensor(`${id}_scales`, [N * blocks], T.FLOAT, scales),
      );
      const ints = (name: string, i: number) => ({ name, type: 2, i });
      nodes.push({
        opType: 'MatMulNBits',
        domain: 'com.microsoft',
        input: [a, `${id}_B`, `${id}_scales`],
        output: [out],
        name: `${id}_mmnb`,
        attribute: [ints('K', K), ints('N', N), ints('bits', 4), ints('block_size', Q4_BLOCK)],
      });
    }
  }
  graph.node = nodes;
  graph.initializer = graph.initializer!.filter((t) => !replaced.has(t.name!));
  if (kind === 'q4') model.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
  return { bytes: onnx.ModelProto.encode(model).finish(), dequantized };
}
