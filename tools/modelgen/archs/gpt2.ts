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

export function buildGpt2(g: GraphBuilder, d: Gpt2Dims): void {
  const dH = d.hidden / d.heads;
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DType.int64, ['batch_size', 'total_sequence_length']);
  const posIds = g.input('position_ids', DType.int64, ['batch_size', 'sequence_length']);
  const pasts: Array<[string, string]> = [];
  for (let i = 0; i < d.layers; i++) {
    const shape = ['batch_size', d.heads, 'past_sequence_length', dH];
    pasts.push([g.input(`past_key_values.${i}.key`, DType.float, shape), g.input(`past_key_values.${i}.value`, DType.float, shape)]);
  }
  const wte = g.weight('wte', [d.vocab, d.hidden], { normal: INIT_STD * 5 });
  const wpe = g.weight('wpe', [d.maxPos, d.hidden], { normal: INIT_STD * 5 });
  let h = g.op('Add', [g.op('Gather', [wte, ids]), g.op('Gather', [wpe, posIds])]);

  const total = dimOf(g, mask, 1);
  const past = g.op('Sub', [total, dimOf(g, ids, 1)]);
  const allowed = g.op('And', [causalAllowed(g, past, total), paddingAllowed(g, mask)]);

  for (let i = 0; i < d.layers; i++) {
    const p = `h.${i}`;
    const a = layerNorm(g, h, d.hidden, `${p}.ln_1`, GPT2_EPS);
    const qkv = linear(g, a, d.hidden, 3 * d.hidden, `${p}.attn.c_attn`);
    const [q, k, v] = g.opN('Split', [qkv], 3, { axis: -1 }) as [string, string, string];
    const [pk, pv] = pasts[i]!;
    const keys = g.op('Concat', [pk, splitHeads(g, k, d.heads, dH)], { axis: 2 });
    const values = g.op('Concat', [pv, splitHeads(g, v, d.heads, dH)], { axis: 2 });
    const presentShape = ['batch_size', d.heads, 'total_sequence_length', dH];
    g.output(`present.${i}.key`, keys, DType.float, presentShape);
    g.output(`present.${i}.value`, values, DType.float, presentShape);
    const ctx = mergeHeads(g, sdpa(g, splitHeads(g, q, d.heads, dH), keys, values, dH, allowed), d.hidden);
    h = g.op('Add', [h, linear(g, ctx, d.hidden, d.hidden, `${p}.attn.c_proj`)]);
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
