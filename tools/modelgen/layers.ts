/**
 * @module layers
 * Transformer building blocks written as ONNX nodes: linear, layer norm, GELU, multi-head
 * attention with boolean masks and optional KV cache, and the feed-forward block. Each
 * architecture composes these, so every generated graph is a real layer stack.
 *
 * Conventions shared with the reference forward pass (reference.ts):
 * - linear weights are stored `[in, out]` as `<prefix>.weight`, biases as `<prefix>.bias`;
 * - attention masks are boolean "may attend" tensors broadcastable to `[B, nH, S, T]`, and
 *   masked scores are replaced (Where) by `MASKED_SCORE` before softmax.
 */
import { DType, GraphBuilder } from './onnx-builder.js';

/** The score given to masked positions before softmax. */
export const MASKED_SCORE = -1e9;
/** Standard deviation of generated weights. */
export const INIT_STD = 0.02;

/** y = x W + b, W stored [in, out]. */
export function linear(g: GraphBuilder, x: string, inF: number, outF: number, prefix: string, bias = true): string {
  const w = g.weight(`${prefix}.weight`, [inF, outF], { normal: 1 / Math.sqrt(inF) });
  const y = g.op('MatMul', [x, w]);
  if (!bias) return y;
  const b = g.weight(`${prefix}.bias`, [outF], { normal: INIT_STD });
  return g.op('Add', [y, b]);
}

/** LayerNormalization over the last axis, gamma ~ 1 and beta ~ 0 with small noise. */
export function layerNorm(g: GraphBuilder, x: string, dim: number, prefix: string, eps: number): string {
  const gamma = g.weight(`${prefix}.weight`, [dim], perturbedOnes(g, dim));
  const beta = g.weight(`${prefix}.bias`, [dim], { normal: INIT_STD });
  return g.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { f: eps } });
}

function perturbedOnes(g: GraphBuilder, dim: number): Float32Array {
  // Deterministic gammas around 1 so layer norms are not trivially identity-scaled.
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = 1 + 0.1 * Math.sin(i * 0.7 + g.weights.size);
  return out;
}

/** Exact GELU, in the Div/Erf form that onnxruntime fuses. */
export function gelu(g: GraphBuilder, x: string): string {
  const e = g.op('Erf', [g.op('Div', [x, g.constF([Math.SQRT2], [])])]);
  const h = g.op('Mul', [x, g.op('Add', [e, g.constF([1], [])])]);
  return g.op('Mul', [h, g.constF([0.5], [])]);
}

/** [B,S,H] -> [B,nH,S,dH]. */
export function splitHeads(g: GraphBuilder, x: string, nH: number, dH: number): string {
  const r = g.op('Reshape', [x, g.constI([0, 0, nH, dH])]);
  return g.op('Transpose', [r], { perm: [0, 2, 1, 3] });
}

/** [B,nH,S,dH] -> [B,S,H]. */
export function mergeHeads(g: GraphBuilder, x: string, hidden: number): string {
  const t = g.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [t, g.constI([0, 0, hidden])]);
}

/**
 * Scaled dot-product attention over split heads.
 * @param q [B,nH,S,dH]; @param k [B,nH,T,dH]; @param v [B,nH,T,dH]
 * @param allowed optional bool mask broadcastable to [B,nH,S,T].
 * @returns [B,nH,S,dH]
 */
export function sdpa(g: GraphBuilder, q: string, k: string, v: string, dH: number, allowed: string | null): string {
  const kt = g.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  let scores = g.op('Mul', [g.op('MatMul', [q, kt]), g.constF([1 / Math.sqrt(dH)], [])]);
  if (allowed) scores = g.op('Where', [allowed, scores, g.constF([MASKED_SCORE], [])]);
  const p = g.op('Softmax', [scores], { axis: -1 });
  return g.op('MatMul', [p, v]);
}

/** Options for {@link attentionBlock}. */
export interface AttentionOpts {
  hidden: number;
  heads: number;
  prefix: string;
  /** Bool mask broadcastable to [B,nH,S,T]; null for full attention. */
  allowed: string | null;
  /** Key/value source for cross-attention; defaults to the query input (self-attention). */
  kv?: string;
  /** Whether q/k/v/out projections have biases (Whisper's k has none). Default all true. */
  kBias?: boolean;
}

/** Multi-head attention with q, k, v and output projections (no cache). */
export function attentionBlock(g: GraphBuilder, x: string, o: AttentionOpts): string {
  const dH = o.hidden / o.heads;
  const src = o.kv ?? x;
  const q = splitHeads(g, linear(g, x, o.hidden, o.hidden, `${o.prefix}.q`), o.heads, dH);
  const k = splitHeads(g, linear(g, src, o.hidden, o.hidden, `${o.prefix}.k`, o.kBias ?? true), o.heads, dH);
  const v = splitHeads(g, linear(g, src, o.hidden, o.hidden, `${o.prefix}.v`), o.heads, dH);
  const ctx = mergeHeads(g, sdpa(g, q, k, v, dH, o.allowed), o.hidden);
  return linear(g, ctx, o.hidden, o.hidden, `${o.prefix}.o`);
}

/** Feed-forward: linear -> GELU -> linear. */
export function ffn(g: GraphBuilder, x: string, hidden: number, inter: number, prefix: string): string {
  const h = gelu(g, linear(g, x, hidden, inter, `${prefix}.fc1`));
  return linear(g, h, inter, hidden, `${prefix}.fc2`);
}

/** Pre-LN encoder layer (ViT, CLIP, Whisper style): x + attn(ln(x)); x + ffn(ln(x)). */
export function preLnLayer(
  g: GraphBuilder,
  x: string,
  o: { hidden: number; heads: number; inter: number; prefix: string; eps: number; allowed: string | null; kBias?: boolean },
): string {
  const a = attentionBlock(g, layerNorm(g, x, o.hidden, `${o.prefix}.ln1`, o.eps), {
    hidden: o.hidden,
    heads: o.heads,
    prefix: `${o.prefix}.attn`,
    allowed: o.allowed,
    kBias: o.kBias ?? true,
  });
  const h = g.op('Add', [x, a]);
  const f = ffn(g, layerNorm(g, h, o.hidden, `${o.prefix}.ln2`, o.eps), o.hidden, o.inter, `${o.prefix}.mlp`);
  return g.op('Add', [h, f]);
}

/** Post-LN encoder layer (BERT style): ln(x + attn(x)); ln(h + ffn(h)). */
export function postLnLayer(
  g: GraphBuilder,
  x: string,
  o: { hidden: number; heads: number; inter: number; prefix: string; eps: number; allowed: string | null },
): string {
  const a = attentionBlock(g, x, { hidden: o.hidden, heads: o.heads, prefix: `${o.prefix}.attn`, allowed: o.allowed });
  const h = layerNorm(g, g.op('Add', [x, a]), o.hidden, `${o.prefix}.ln1`, o.eps);
  const f = ffn(g, h, o.hidden, o.inter, `${o.prefix}.mlp`);
  return layerNorm(g, g.op('Add', [h, f]), o.hidden, `${o.prefix}.ln2`, o.eps);
}

/** Dim `axis` of `x`'s shape as an int64 scalar. */
export function dimOf(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [x]), g.constI([axis], [])], { axis: 0 });
}

/** int64 mask [B,T] -> bool [B,1,1,T] ("key may be attended"). */
export function paddingAllowed(g: GraphBuilder, mask: string): string {
  const b = g.op('Cast', [mask], { to: 9 });
  return g.op('Unsqueeze', [b, g.constI([1, 2])]);
}

/**
 * Causal "may attend" mask [S,T] for queries at absolute positions past..past+S-1 over keys
 * 0..T-1 (T = past + S): key j is allowed for query i when j <= past + i.
 */
export function causalAllowed(g: GraphBuilder, past: string, total: string): string {
  const one = g.constI([1], []);
  const zero = g.constI([0], []);
  const qPos = g.op('Unsqueeze', [g.op('Range', [past, total, one]), g.constI([1])]);
  const kPos = g.op('Unsqueeze', [g.op('Range', [zero, total, one]), g.constI([0])]);
  return g.op('LessOrEqual', [kPos, qPos]);
}

/**
 * The cache inputs of a merged seq2seq decoder (Optimum's `decoder_model_merged`):
 * `past_key_values.{i}.decoder.key/value` and `.encoder.key/value` per layer, then
 * `use_cache_branch`; and the cross-attention K/V per layer, computed by `crossKv(i)` from the
 * encoder states on the first step (else branch) and passed through from the cache afterwards
 * (then branch), through one `If`.
 */
export function mergedDecoderCache(
  g: GraphBuilder,
  layers: number,
  heads: number,
  headDim: number,
  crossKv: (layer: number) => [string, string],
): { pastDecoder: Array<[string, string]>; cross: string[] } {
  const pastDecoder: Array<[string, string]> = [];
  const pastEncoder: Array<[string, string]> = [];
  for (let i = 0; i < layers; i++) {
    const ds = ['batch_size', heads, 'past_decoder_sequence_length', headDim];
    const es = ['batch_size', heads, 'encoder_sequence_length_out', headDim];
    pastDecoder.push([
      g.input(`past_key_values.${i}.decoder.key`, DType.float, ds),
      g.input(`past_key_values.${i}.decoder.value`, DType.float, ds),
    ]);
    pastEncoder.push([
      g.input(`past_key_values.${i}.encoder.key`, DType.float, es),
      g.input(`past_key_values.${i}.encoder.value`, DType.float, es),
    ]);
  }
  const useCache = g.input('use_cache_branch', DType.bool, [1]);
  const thenG = g.subgraph('use_cache', () => pastEncoder.flat().map((value) => ({ value, elemType: DType.float, rank: 4 })));
  const elseG = g.subgraph('compute_cross_kv', () =>
    pastEncoder.flatMap((_, i) => crossKv(i).map((value) => ({ value, elemType: DType.float, rank: 4 }))),
  );
  const cross = g.opN('If', [useCache], 2 * layers, { then_branch: { g: thenG }, else_branch: { g: elseG } });
  return { pastDecoder, cross };
}
