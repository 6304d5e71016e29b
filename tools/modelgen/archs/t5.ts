/**
 * @module archs/t5
 * T5ForConditionalGeneration (the T5 v1.1 / FLAN-T5 variant) as Optimum exports it for
 * transformers.js:
 * - `encoder_model`: token embedding, no position embedding; pre-norm layers with T5's RMS
 *   layer norm (no mean, no bias), unscaled attention plus a learned relative-position bias
 *   (bidirectional buckets, computed in layer 0 and shared by every layer), and the gated-GELU
 *   feed-forward; a final norm.
 * - `decoder_model_merged`: the same blocks with causal self-attention (unidirectional buckets)
 *   over a KV cache, and cross-attention (no position bias) whose encoder K/V are computed on
 *   the first step and passed through afterwards (an `If` on `use_cache_branch`). An untied
 *   output projection, as in v1.1.
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { INIT_STD, MASKED_SCORE, dimOf, mergedDecoderCache, paddingAllowed } from '../layers.js';

/** T5 sizes. */
export interface T5Dims {
  vocab: number;
  hidden: number;
  /** Size of each attention head (T5's d_kv; heads * dKv need not equal hidden). */
  dKv: number;
  heads: number;
  ff: number;
  layers: number;
  decLayers: number;
}

export const T5_EPS = 1e-6;
export const T5_BUCKETS = 32;
export const T5_MAX_DISTANCE = 128;

/** HF's _relative_position_bucket for one relative position (key - query). */
export function relativeBucket(rel: number, bidirectional: boolean): number {
  let n = T5_BUCKETS;
  let bucket = 0;
  if (bidirectional) {
    n /= 2;
    if (rel > 0) bucket += n;
    rel = Math.abs(rel);
  } else rel = -Math.min(rel, 0);
  const maxExact = n / 2;
  if (rel < maxExact) return bucket + rel;
  const large = maxExact + Math.trunc((Math.log(rel / maxExact) / Math.log(T5_MAX_DISTANCE / maxExact)) * (n - maxExact));
  return bucket + Math.min(large, n - 1);
}

function gammas(g: GraphBuilder, dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = 1 + 0.1 * Math.sin(i * 0.7 + g.weights.size);
  return out;
}

/** T5's layer norm: x / sqrt(mean(x^2) + eps) * weight. */
function t5Norm(g: GraphBuilder, x: string, dim: number, prefix: string): string {
  const w = g.weight(`${prefix}.weight`, [dim], gammas(g, dim));
  const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.constF([T5_EPS], [])])])]), w]);
}

/** x W, no bias (T5 has none). */
function proj(g: GraphBuilder, x: string, inF: number, outF: number, name: string): string {
  return g.op('MatMul', [x, g.weight(`${name}.weight`, [inF, outF], { normal: 1 / Math.sqrt(inF) })]);
}

function heads(g: GraphBuilder, x: string, nH: number, dKv: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.constI([0, 0, nH, dKv])])], { perm: [0, 2, 1, 3] });
}

function merge(g: GraphBuilder, x: string, width: number): string {
  return g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1, 3] }), g.constI([0, 0, width])]);
}

/** softmax(q k^T + bias, masked) v, unscaled as T5 does; `bias` broadcasts to [B,H,S,T]. */
function attend(g: GraphBuilder, q: string, k: string, v: string, bias: string | null, allowed: string | null): string {
  let scores = g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
  if (bias) scores = g.op('Add', [scores, bias]);
  if (allowed) scores = g.op('Where', [allowed, scores, g.constF([MASKED_SCORE], [])]);
  return g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
}

/**
 * The relative-position bias [1,H,S,T] for queries at positions qFrom..qFrom+S-1 over keys
 * 0..T-1, from the `relative_attention_bias` table [buckets, H], bucketed in the graph.
 */
function positionBias(g: GraphBuilder, table: string, qFrom: string, qTo: string, total: string, bidirectional: boolean): string {
  const one = g.constI([1], []);
  const q = g.op('Unsqueeze', [g.op('Range', [qFrom, qTo, one]), g.constI([1])]);
  const k = g.op('Unsqueeze', [g.op('Range', [g.constI([0], []), total, one]), g.constI([0])]);
  let rel = g.op('Sub', [k, q]); // [S,T]
  let bucket: string = g.constI([0], []);
  let n = T5_BUCKETS;
  if (bidirectional) {
    n /= 2;
    bucket = g.op('Mul', [g.op('Cast', [g.op('Greater', [rel, g.constI([0], [])])], { to: DType.int64 }), g.constI([n], [])]);
    rel = g.op('Abs', [rel]);
  } else {
    rel = g.op('Neg', [g.op('Min', [rel, g.constI([0], [])])]);
  }
  const maxExact = n / 2;
  const relF = g.op('Cast', [g.op('Max', [rel, g.constI([1], [])])], { to: DType.float });
  const scaled = g.op('Mul', [
    g.op('Div', [g.op('Log', [g.op('Div', [relF, g.constF([maxExact], [])])]), g.constF([Math.log(T5_MAX_DISTANCE / maxExact)], [])]),
    g.constF([n - maxExact], []),
  ]);
  const large = g.op('Min', [g.op('Add', [g.constI([maxExact], []), g.op('Cast', [scaled], { to: DType.int64 })]), g.constI([n - 1], [])]);
  bucket = g.op('Add', [bucket, g.op('Where', [g.op('Less', [rel, g.constI([maxExact], [])]), rel, large])]);
  const bias = g.op('Gather', [table, bucket]); // [S,T,H]
  return g.op('Unsqueeze', [g.op('Transpose', [bias], { perm: [2, 0, 1] }), g.constI([0])]);
}

/** Gated-GELU feed-forward (tanh-approximated GELU, as `gelu_new`). */
function gatedGelu(g: GraphBuilder, x: string, d: T5Dims, prefix: string): string {
  const a = proj(g, x, d.hidden, d.ff, `${prefix}.wi_0`);
  const cube = g.op('Mul', [g.op('Mul', [a, a]), a]);
  const inner = g.op('Mul', [g.op('Add', [a, g.op('Mul', [cube, g.constF([0.044715], [])])]), g.constF([Math.sqrt(2 / Math.PI)], [])]);
  const gelu = g.op('Mul', [g.op('Mul', [a, g.constF([0.5], [])]), g.op('Add', [g.op('Tanh', [inner]), g.constF([1], [])])]);
  return proj(g, g.op('Mul', [gelu, proj(g, x, d.hidden, d.ff, `${prefix}.wi_1`)]), d.ff, d.hidden, `${prefix}.wo`);
}

export function buildT5Encoder(g: GraphBuilder, d: T5Dims): void {
  const inner = d.heads * d.dKv;
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'encoder_sequence_length']);
  const mask = g.input('attention_mask', DType.int64, ['batch_size', 'encoder_sequence_length']);
  let h = g.op('Gather', [g.weight('shared', [d.vocab, d.hidden], { normal: 1 }), ids]);
  const S = dimOf(g, ids, 1);
  const table = g.weight('encoder.relative_attention_bias', [T5_BUCKETS, d.heads], { normal: 0.5 });
  const bias = positionBias(g, table, g.constI([0], []), S, S, true);
  const allowed = paddingAllowed(g, mask);
  for (let i = 0; i < d.layers; i++) {
    const p = `encoder.block.${i}`;
    const a = t5Norm(g, h, d.hidden, `${p}.ln_attn`);
    const q = heads(g, proj(g, a, d.hidden, inner, `${p}.attn.q`), d.heads, d.dKv);
    const k = heads(g, proj(g, a, d.hidden, inner, `${p}.attn.k`), d.heads, d.dKv);
    const v = heads(g, proj(g, a, d.hidden, inner, `${p}.attn.v`), d.heads, d.dKv);
    h = g.op('Add', [h, proj(g, merge(g, attend(g, q, k, v, bias, allowed), inner), inner, d.hidden, `${p}.attn.o`)]);
    h = g.op('Add', [h, gatedGelu(g, t5Norm(g, h, d.hidden, `${p}.ln_ff`), d, `${p}.ff`)]);
  }
  h = t5Norm(g, h, d.hidden, 'encoder.final_layer_norm');
  g.output('last_hidden_state', h, DType.float, ['batch_size', 'encoder_sequence_length', d.hidden]);
}

/** The decoder; `shared` is the encoder's embedding table (T5 shares one between the two). */
export function buildT5Decoder(g: GraphBuilder, d: T5Dims, shared: Float32Array): void {
  const inner = d.heads * d.dKv;
  const encMask = g.input('encoder_attention_mask', DType.int64, ['batch_size', 'encoder_sequence_length']);
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'decoder_sequence_length']);
  const enc = g.input('encoder_hidden_states', DType.float, ['batch_size', 'encoder_sequence_length', d.hidden]);
  const { pastDecoder: pastDec, cross } = mergedDecoderCache(g, d.decLayers, d.heads, d.dKv, (i) => {
    const p = `decoder.block.${i}.cross`;
    return [
      heads(g, proj(g, enc, d.hidden, inner, `${p}.k`), d.heads, d.dKv),
      heads(g, proj(g, enc, d.hidden, inner, `${p}.v`), d.heads, d.dKv),
    ];
  });

  const past = dimOf(g, pastDec[0]![0], 2);
  const total = g.op('Add', [past, dimOf(g, ids, 1)]);
  const table = g.weight('decoder.relative_attention_bias', [T5_BUCKETS, d.heads], { normal: 0.5 });
  const bias = positionBias(g, table, past, total, total, false);
  const one = g.constI([1], []);
  const qPos = g.op('Unsqueeze', [g.op('Range', [past, total, one]), g.constI([1])]);
  const kPos = g.op('Unsqueeze', [g.op('Range', [g.constI([0], []), total, one]), g.constI([0])]);
  const causal = g.op('LessOrEqual', [kPos, qPos]);
  const encAllowed = paddingAllowed(g, encMask);
  let h = g.op('Gather', [g.weight('shared', [d.vocab, d.hidden], shared), ids]);
  for (let i = 0; i < d.decLayers; i++) {
    const p = `decoder.block.${i}`;
    const a = t5Norm(g, h, d.hidden, `${p}.ln_self`);
    const q = heads(g, proj(g, a, d.hidden, inner, `${p}.self.q`), d.heads, d.dKv);
    const keys = g.op('Concat', [pastDec[i]![0], heads(g, proj(g, a, d.hidden, inner, `${p}.self.k`), d.heads, d.dKv)], { axis: 2 });
    const values = g.op('Concat', [pastDec[i]![1], heads(g, proj(g, a, d.hidden, inner, `${p}.self.v`), d.heads, d.dKv)], { axis: 2 });
    const decShape = ['batch_size', d.heads, 'past_decoder_sequence_length + 1', d.dKv];
    g.output(`present.${i}.decoder.key`, keys, DType.float, decShape);
    g.output(`present.${i}.decoder.value`, values, DType.float, decShape);
    h = g.op('Add', [h, proj(g, merge(g, attend(g, q, keys, values, bias, causal), inner), inner, d.hidden, `${p}.self.o`)]);

    const c = t5Norm(g, h, d.hidden, `${p}.ln_cross`);
    const cq = heads(g, proj(g, c, d.hidden, inner, `${p}.cross.q`), d.heads, d.dKv);
    const [ck, cv] = [cross[2 * i]!, cross[2 * i + 1]!];
    const encShape = ['batch_size', d.heads, 'encoder_sequence_length_out', d.dKv];
    g.output(`present.${i}.encoder.key`, ck, DType.float, encShape);
    g.output(`present.${i}.encoder.value`, cv, DType.float, encShape);
    h = g.op('Add', [h, proj(g, merge(g, attend(g, cq, ck, cv, null, encAllowed), inner), inner, d.hidden, `${p}.cross.o`)]);
    h = g.op('Add', [h, gatedGelu(g, t5Norm(g, h, d.hidden, `${p}.ln_ff`), d, `${p}.ff`)]);
  }
  h = t5Norm(g, h, d.hidden, 'decoder.final_layer_norm');
  const head = g.weight('lm_head.weight', [d.hidden, d.vocab], { normal: INIT_STD * 5 });
  g.output('logits', g.op('MatMul', [h, head]), DType.float, ['batch_size', 'decoder_sequence_length', d.vocab]);
}

/** config.json and generation_config.json of a FLAN-T5-style folder. */
export function t5Configs(d: T5Dims): Record<string, Record<string, unknown>> {
  return {
    'config.json': {
      model_type: 't5',
      architectures: ['T5ForConditionalGeneration'],
      vocab_size: d.vocab,
      d_model: d.hidden,
      d_kv: d.dKv,
      d_ff: d.ff,
      num_layers: d.layers,
      num_decoder_layers: d.decLayers,
      num_heads: d.heads,
      relative_attention_num_buckets: T5_BUCKETS,
      relative_attention_max_distance: T5_MAX_DISTANCE,
      layer_norm_epsilon: T5_EPS,
      feed_forward_proj: 'gated-gelu',
      dense_act_fn: 'gelu_new',
      is_gated_act: true,
      is_encoder_decoder: true,
      tie_word_embeddings: false,
      decoder_start_token_id: 0,
      eos_token_id: 1,
      pad_token_id: 0,
      use_cache: true,
    },
    'generation_config.json': { decoder_start_token_id: 0, eos_token_id: 1, pad_token_id: 0 },
  };
}
