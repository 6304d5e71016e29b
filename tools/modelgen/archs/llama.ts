/**
 * @module archs/llama
 * LlamaForCausalLM and Qwen2ForCausalLM with a KV cache, in the input/output layout of the
 * Hub's ONNX exports (input_ids, attention_mask, position_ids, past_key_values.{i}.key/value
 * -> logits, present.{i}.key/value): rotary position embeddings (`rope_theta`), grouped-query
 * attention (`num_key_value_heads` below `num_attention_heads`, each key/value head shared by a
 * group of query heads), RMSNorm, and the SwiGLU feed-forward. The flavours differ as the real
 * models do: Qwen2 has q/k/v biases and (at 0.5B) ties the output projection to the embedding;
 * Llama has no biases and an untied head.
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { INIT_STD, causalAllowed, dimOf, linear, mergeHeads, paddingAllowed, sdpa, splitHeads } from '../layers.js';

/** Llama / Qwen2 sizes. */
export interface LlamaDims {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention); divides `heads`. */
  kvHeads: number;
  inter: number;
  maxPos: number;
}

/** What distinguishes the flavours. */
export interface LlamaFlavor {
  modelType: 'llama' | 'qwen2';
  architecture: string;
  /** q/k/v projections have biases (Qwen2). */
  qkvBias: boolean;
  /** The output projection is the transposed embedding table. */
  tied: boolean;
  eps: number;
  ropeTheta: number;
}

export const QWEN2: LlamaFlavor = {
  modelType: 'qwen2',
  architecture: 'Qwen2ForCausalLM',
  qkvBias: true,
  tied: true,
  eps: 1e-6,
  ropeTheta: 1_000_000,
};
export const LLAMA: LlamaFlavor = {
  modelType: 'llama',
  architecture: 'LlamaForCausalLM',
  qkvBias: false,
  tied: false,
  eps: 1e-5,
  ropeTheta: 10_000,
};

/** Inverse frequencies of the rotary embedding: theta^(-2i/dH), i < dH/2. */
export function ropeInvFreq(dH: number, theta: number): number[] {
  return Array.from({ length: dH / 2 }, (_, i) => theta ** (-(2 * i) / dH));
}

function gammas(g: GraphBuilder, dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = 1 + 0.1 * Math.sin(i * 0.7 + g.weights.size);
  return out;
}

/** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNorm(g: GraphBuilder, x: string, dim: number, prefix: string, eps: number): string {
  const w = g.weight(`${prefix}.weight`, [dim], gammas(g, dim));
  const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const inv = g.op('Sqrt', [g.op('Add', [ms, g.constF([eps], [])])]);
  return g.op('Mul', [g.op('Div', [x, inv]), w]);
}

/** Applies the rotary embedding to [B,n,S,dH] heads: x*cos + rotate_half(x)*sin. */
function rope(g: GraphBuilder, x: string, cos: string, sin: string, dH: number): string {
  const half = dH / 2;
  const x1 = g.op('Slice', [x, g.constI([0]), g.constI([half]), g.constI([3])]);
  const x2 = g.op('Slice', [x, g.constI([half]), g.constI([dH]), g.constI([3])]);
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: 3 });
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
}

/** [B,kvH,T,dH] -> [B,kvH*rep,T,dH], each key/value head repeated for its group of query heads. */
function repeatKv(g: GraphBuilder, x: string, kvHeads: number, rep: number, dH: number): string {
  if (rep === 1) return x;
  const tiled = g.op('Tile', [g.op('Unsqueeze', [x, g.constI([2])]), g.constI([1, 1, rep, 1, 1])]);
  return g.op('Reshape', [tiled, g.constI([0, kvHeads * rep, -1, dH])]);
}

export function buildLlama(g: GraphBuilder, d: LlamaDims, f: LlamaFlavor): void {
  const dH = d.hidden / d.heads;
  const rep = d.heads / d.kvHeads;
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DType.int64, ['batch_size', 'total_sequence_length']);
  const posIds = g.input('position_ids', DType.int64, ['batch_size', 'sequence_length']);
  const pasts: Array<[string, string]> = [];
  for (let i = 0; i < d.layers; i++) {
    const shape = ['batch_size', d.kvHeads, 'past_sequence_length', dH];
    pasts.push([g.input(`past_key_values.${i}.key`, DType.float, shape), g.input(`past_key_values.${i}.value`, DType.float, shape)]);
  }
  const embed = g.weight('embed_tokens', [d.vocab, d.hidden], { normal: INIT_STD * 5 });
  let h = g.op('Gather', [embed, ids]);

  // Rotary tables from the position ids: [B,1,S,dH].
  const pos = g.op('Unsqueeze', [g.op('Cast', [posIds], { to: DType.float }), g.constI([2])]);
  const freqs = g.op('Mul', [pos, g.constF(ropeInvFreq(dH, f.ropeTheta), [1, 1, dH / 2])]);
  const emb = g.op('Concat', [freqs, freqs], { axis: -1 });
  const cos = g.op('Unsqueeze', [g.op('Cos', [emb]), g.constI([1])]);
  const sin = g.op('Unsqueeze', [g.op('Sin', [emb]), g.constI([1])]);

  const total = dimOf(g, mask, 1);
  const past = g.op('Sub', [total, dimOf(g, ids, 1)]);
  const allowed = g.op('And', [causalAllowed(g, past, total), paddingAllowed(g, mask)]);

  for (let i = 0; i < d.layers; i++) {
    const p = `layers.${i}`;
    const a = rmsNorm(g, h, d.hidden, `${p}.input_layernorm`, f.eps);
    const q = rope(g, splitHeads(g, linear(g, a, d.hidden, d.hidden, `${p}.self_attn.q_proj`, f.qkvBias), d.heads, dH), cos, sin, dH);
    const k = rope(
      g,
      splitHeads(g, linear(g, a, d.hidden, d.kvHeads * dH, `${p}.self_attn.k_proj`, f.qkvBias), d.kvHeads, dH),
      cos,
      sin,
      dH,
    );
    const v = splitHeads(g, linear(g, a, d.hidden, d.kvHeads * dH, `${p}.self_attn.v_proj`, f.qkvBias), d.kvHeads, dH);
    const [pk, pv] = pasts[i]!;
    const keys = g.op('Concat', [pk, k], { axis: 2 });
    const values = g.op('Concat', [pv, v], { axis: 2 });
    const presentShape = ['batch_size', d.kvHeads, 'total_sequence_length', dH];
    g.output(`present.${i}.key`, keys, DType.float, presentShape);
    g.output(`present.${i}.value`, values, DType.float, presentShape);
    const ctx = sdpa(g, q, repeatKv(g, keys, d.kvHeads, rep, dH), repeatKv(g, values, d.kvHeads, rep, dH), dH, allowed);
    h = g.op('Add', [h, linear(g, mergeHeads(g, ctx, d.hidden), d.hidden, d.hidden, `${p}.self_attn.o_proj`, false)]);
    const m = rmsNorm(g, h, d.hidden, `${p}.post_attention_layernorm`, f.eps);
    const gate = linear(g, m, d.hidden, d.inter, `${p}.mlp.gate_proj`, false);
    const up = linear(g, m, d.hidden, d.inter, `${p}.mlp.up_proj`, false);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    h = g.op('Add', [h, linear(g, act, d.inter, d.hidden, `${p}.mlp.down_proj`, false)]);
  }
  h = rmsNorm(g, h, d.hidden, 'norm', f.eps);
  const head = f.tied ? g.op('Transpose', [embed], { perm: [1, 0] }) : g.weight('lm_head', [d.hidden, d.vocab], { normal: INIT_STD * 5 });
  g.output('logits', g.op('MatMul', [h, head]), DType.float, ['batch_size', 'sequence_length', d.vocab]);
}

/** config.json of the flavour, with the special token ids. */
export function llamaConfig(d: LlamaDims, f: LlamaFlavor, bos: number, eos: number): Record<string, unknown> {
  return {
    model_type: f.modelType,
    architectures: [f.architecture],
    vocab_size: d.vocab,
    hidden_size: d.hidden,
    intermediate_size: d.inter,
    num_hidden_layers: d.layers,
    num_attention_heads: d.heads,
    num_key_value_heads: d.kvHeads,
    max_position_embeddings: d.maxPos,
    rms_norm_eps: f.eps,
    rope_theta: f.ropeTheta,
    hidden_act: 'silu',
    tie_word_embeddings: f.tied,
    attention_bias: f.qkvBias,
    bos_token_id: bos,
    eos_token_id: eos,
    use_cache: true,
    torch_dtype: 'float32',
  };
}
