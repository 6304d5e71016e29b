/**
 * @module archs/vit-gpt2
 * VisionEncoderDecoderModel with a ViT encoder and a GPT-2 decoder with cross-attention, as
 * Optimum exports the `vit-gpt2-image-captioning` family for transformers.js:
 * - `encoder_model`: pixel_values -> last_hidden_state (ViT's patches, CLS token, positions,
 *   pre-LN layers, final layer norm; no pooler or head);
 * - `decoder_model_merged`: input_ids, encoder_hidden_states and the self-attention cache
 *   `past_key_values.{i}.key/value` (GPT-2's decoder-only layout: cross-attention K/V are
 *   recomputed from the encoder states each step, as Hugging Face's GPT-2 does) -> logits and
 *   `present.{i}.key/value`. Positions follow the cache length (the decoder gets no mask).
 * Encoder and decoder share one width, as the Hub's model does (no projection between them).
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { INIT_STD, causalAllowed, dimOf, ffn, layerNorm, linear, mergeHeads, sdpa, splitHeads } from '../layers.js';
import { GPT2_EPS, gpt2CacheInputs, gpt2SelfAttention } from './gpt2.js';
import { patchEmbed, visionEncoder, vitPreprocessor } from './vit.js';

/** Sizes of the captioner. */
export interface VitGpt2Dims {
  image: number;
  patch: number;
  hidden: number;
  encLayers: number;
  heads: number;
  inter: number;
  vocab: number;
  decLayers: number;
  maxPos: number;
}

export const VIT_GPT2_ENC_EPS = 1e-12;

export function buildCaptionEncoder(g: GraphBuilder, d: VitGpt2Dims): void {
  const px = g.input('pixel_values', DType.float, ['batch_size', 3, d.image, d.image]);
  let h = patchEmbed(g, px, { image: d.image, patch: d.patch, hidden: d.hidden, prefix: 'encoder.embeddings', bias: true });
  h = visionEncoder(g, h, {
    hidden: d.hidden,
    heads: d.heads,
    inter: d.inter,
    layers: d.encLayers,
    prefix: 'encoder',
    eps: VIT_GPT2_ENC_EPS,
  });
  h = layerNorm(g, h, d.hidden, 'encoder.ln', VIT_GPT2_ENC_EPS);
  g.output('last_hidden_state', h, DType.float, ['batch_size', (d.image / d.patch) ** 2 + 1, d.hidden]);
}

export function buildCaptionDecoder(g: GraphBuilder, d: VitGpt2Dims): void {
  const dH = d.hidden / d.heads;
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'decoder_sequence_length']);
  const enc = g.input('encoder_hidden_states', DType.float, ['batch_size', 'encoder_sequence_length', d.hidden]);
  const pasts = gpt2CacheInputs(g, d.decLayers, d.heads, dH);
  const past = dimOf(g, pasts[0]![0], 2);
  const total = g.op('Add', [past, dimOf(g, ids, 1)]);
  const allowed = causalAllowed(g, past, total);
  const wte = g.weight('decoder.wte', [d.vocab, d.hidden], { normal: INIT_STD * 5 });
  const wpe = g.weight('decoder.wpe', [d.maxPos, d.hidden], { normal: INIT_STD * 5 });
  const posIds = g.op('Range', [past, total, g.constI([1], [])]);
  let h = g.op('Add', [g.op('Gather', [wte, ids]), g.op('Gather', [wpe, posIds])]);

  for (let i = 0; i < d.decLayers; i++) {
    const p = `decoder.h.${i}`;
    h = gpt2SelfAttention(g, h, pasts[i]!, allowed, { hidden: d.hidden, heads: d.heads, prefix: p, layer: i });

    // Cross-attention on the image's states: queries from the text, keys and values from the encoder.
    const c = layerNorm(g, h, d.hidden, `${p}.ln_cross_attn`, GPT2_EPS);
    const cq = splitHeads(g, linear(g, c, d.hidden, d.hidden, `${p}.crossattention.q_attn`), d.heads, dH);
    const kv = linear(g, enc, d.hidden, 2 * d.hidden, `${p}.crossattention.c_attn`);
    const [ck, cv] = g.opN('Split', [kv], 2, { axis: -1 }) as [string, string];
    const crossCtx = mergeHeads(g, sdpa(g, cq, splitHeads(g, ck, d.heads, dH), splitHeads(g, cv, d.heads, dH), dH, null), d.hidden);
    h = g.op('Add', [h, linear(g, crossCtx, d.hidden, d.hidden, `${p}.crossattention.c_proj`)]);

    h = g.op('Add', [h, ffn(g, layerNorm(g, h, d.hidden, `${p}.ln_2`, GPT2_EPS), d.hidden, 4 * d.hidden, `${p}.mlp`)]);
  }
  h = layerNorm(g, h, d.hidden, 'decoder.ln_f', GPT2_EPS);
  const lmHead = g.weight('decoder.lm_head', [d.hidden, d.vocab], { normal: INIT_STD * 5 });
  g.output('logits', g.op('MatMul', [h, lmHead]), DType.float, ['batch_size', 'decoder_sequence_length', d.vocab]);
}

/** config.json, generation_config.json and preprocessor_config.json of a captioner folder. */
export function captionConfigs(d: VitGpt2Dims, eos: number): Record<string, Record<string, unknown>> {
  return {
    'config.json': {
      model_type: 'vision-encoder-decoder',
      architectures: ['VisionEncoderDecoderModel'],
      is_encoder_decoder: true,
      tie_word_embeddings: false,
      decoder_start_token_id: eos,
      bos_token_id: eos,
      eos_token_id: eos,
      pad_token_id: eos,
      encoder: {
        model_type: 'vit',
        hidden_size: d.hidden,
        num_hidden_layers: d.encLayers,
        num_attention_heads: d.heads,
        intermediate_size: d.inter,
        image_size: d.image,
        patch_size: d.patch,
        num_channels: 3,
        layer_norm_eps: VIT_GPT2_ENC_EPS,
      },
      decoder: {
        model_type: 'gpt2',
        vocab_size: d.vocab,
        n_embd: d.hidden,
        n_layer: d.decLayers,
        n_head: d.heads,
        n_positions: d.maxPos,
        n_ctx: d.maxPos,
        add_cross_attention: true,
        is_decoder: true,
        layer_norm_epsilon: GPT2_EPS,
        bos_token_id: eos,
        eos_token_id: eos,
        decoder_start_token_id: eos,
        tie_word_embeddings: false,
      },
    },
    'generation_config.json': { bos_token_id: eos, eos_token_id: eos, pad_token_id: eos, decoder_start_token_id: eos, max_length: 16 },
    'preprocessor_config.json': { ...vitPreprocessor(d), feature_extractor_type: 'ViTFeatureExtractor' },
  };
}
