/**
 * @module archs/gpt2
 * GPT2LMHeadModel with a KV cache, in the input/output layout of Optimum's merged exports:
 * input_ids, attention_mask, position_ids, past_key_values.{i}.key/value -> logits,
 * present.{i}.key/value. Head count and head size are fixed dimensions so that transformers.js
 * can build the zero-length first-step cache from the input metadata. The LM head is untied.
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { INIT_STD, causalAllowed, dimOf, ffn, layerNorm, linear, mergeHeads, paddingAllowed, sdpa, splitHeads } from '../layers.js';

/** GPT-2 sizes. */
export interface Gpt2Dims {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  maxPos: number;
}

/** LayerNorm epsilon used by GPT-2. */
export const GPT2_EPS = 1e-5;

/** The cache inputs `past_key_values.{i}.key/value` [B, heads, past, dH] of each layer. */
export function gpt2CacheInputs(g: GraphBuilder, layers: number, heads: number, dH: number): Array<[string, string]> {
  const pasts: Array<[string, string]> = [];
  for (let i = 0; i < layers; i++) {
    const shape = ['batch_size', heads, 'past_sequence_length', dH];
    pasts.push([g.input(`past_key_values.${i}.key`, DType.float, shape), g.input(`past_key_values.${i}.value`, DType.float, shape)]);
  }
  return pasts;
}

/**
 * GPT-2's cached self-attention sublayer: h + c_proj(attention(ln_1(h))) over the past keys and
 * values plus this step's, which become the layer's `present.{layer}.key/value` outputs.
 */
export function gpt2SelfAttention(
  g: GraphBuilder,
  h: string,
  past: [string, string],
  allowed: string,
  o: { hidden: number; heads: number; prefix: string; layer: number },
): string {
  const dH = o.hidden / o.heads;
  const a = layerNorm(g, h, o.hidden, `${o.prefix}.ln_1`, GPT2_EPS);
  const qkv = linear(g, a, o.hidden, 3 * o.hidden, `${o.prefix}.attn.c_attn`);
  const [q, k, v] = g.opN('Split', [qkv], 3, { axis: -1 }) as [string, string, string];
  const keys = g.op('Concat', [past[0], splitHeads(g, k, o.heads, dH)], { axis: 2 });
  const values = g.op('Concat', [past[1], splitHeads(g, v, o.heads, dH)], { axis: 2 });
  const presentShape = ['batch_size', o.heads, 'total_sequence_length', dH];
  g.output(`present.${o.layer}.key`, keys, DType.float, presentShape);
  g.output(`present.${o.layer}.value`, values, DType.float, presentShape);
  const ctx = mergeHeads(g, sdpa(g, splitHeads(g, q, o.heads, dH), keys, values, dH, allowed), o.hidden);
  return g.op('Add', [h, linear(g, ctx, o.hidden, o.hidden, `${o.prefix}.attn.c_proj`)]);
}

export function buildGpt2(g: GraphBuilder, d: Gpt2Dims): void {
  const dH = d.hidden / d.heads;
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DType.int64, ['batch_size', 'total_sequence_length']);
  const posIds = g.input('position_ids', DType.int64, ['batch_size', 'sequence_length']);
  const pasts = gpt2CacheInputs(g, d.layers, d.heads, dH);
  const wte = g.weight('wte', [d.vocab, d.hidden], { normal: INIT_STD * 5 });
  const wpe = g.weight('wpe', [d.maxPos, d.hidden], { normal: INIT_STD * 5 });
  let h = g.op('Add', [g.op('Gather', [wte, ids]), g.op('Gather', [wpe, posIds])]);

  const total = dimOf(g, mask, 1);
  const past = g.op('Sub', [total, dimOf(g, ids, 1)]);
  const allowed = g.op('And', [causalAllowed(g, past, total), paddingAllowed(g, mask)]);

  for (let i = 0; i < d.layers; i++) {
    const p = `h.${i}`;
    h = gpt2SelfAttention(g, h, pasts[i]!, allowed, { hidden: d.hidden, heads: d.heads, prefix: p, layer: i });
    h = g.op('Add', [h, ffn(g, layerNorm(g, h, d.hidden, `${p}.ln_2`, GPT2_EPS), d.hidden, 4 * d.hidden, `${p}.mlp`)]);
  }
  h = layerNorm(g, h, d.hidden, 'ln_f', GPT2_EPS);
  const lmHead = g.weight('lm_head', [d.hidden, d.vocab], { normal: INIT_STD * 5 });
  g.output('logits', g.op('MatMul', [h, lmHead]), DType.float, ['batch_size', 'sequence_length', d.vocab]);
}

/** config.json for GPT2LMHeadModel. */
export function gpt2Config(d: Gpt2Dims, eos: number): Record<string, unknown> {
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: d.vocab,
    n_embd: d.hidden,
    n_layer: d.layers,
    n_head: d.heads,
    n_positions: d.maxPos,
    n_ctx: d.maxPos,
    n_inner: null,
    activation_function: 'gelu',
    layer_norm_epsilon: GPT2_EPS,
    bos_token_id: eos,
    eos_token_id: eos,
    tie_word_embeddings: false,
    use_cache: true,
  };
}
