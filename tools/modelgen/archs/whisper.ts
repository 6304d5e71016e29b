/**
 * @module archs/whisper
 * WhisperForConditionalGeneration as Optimum exports it for transformers.js:
 * - `encoder_model`: two GELU conv1d layers (the second with stride 2), sinusoidal positions,
 *   pre-LN layers and a final layer norm over 3000 mel frames -> 1500 states.
 * - `decoder_model_merged`: token + learned positions, pre-LN layers with causal self-attention
 *   (KV cache) and cross-attention, whose encoder K/V are computed on the first step and passed
 *   through afterwards (an `If` on `use_cache_branch`, as in merged exports). The output
 *   projection is untied from the token embedding.
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import {
  INIT_STD,
  causalAllowed,
  dimOf,
  ffn,
  gelu,
  layerNorm,
  linear,
  mergeHeads,
  mergedDecoderCache,
  preLnLayer,
  sdpa,
  splitHeads,
} from '../layers.js';
import type { WhisperSpecials } from '../tokenizers.js';

/** Whisper sizes (`textVocab` counts text tokens up to and including `<|endoftext|>`). */
export interface WhisperDims {
  textVocab: number;
  hidden: number;
  encLayers: number;
  decLayers: number;
  heads: number;
  inter: number;
  mels: number;
  maxTarget: number;
}

const EPS = 1e-5;
const FRAMES = 3000;
const SOURCE_POSITIONS = 1500;

function sinusoids(length: number, channels: number): Float32Array {
  const out = new Float32Array(length * channels);
  const half = channels / 2;
  const inc = Math.log(10000) / (half - 1);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.exp(-inc * i);
      out[t * channels + i] = Math.sin(a);
      out[t * channels + half + i] = Math.cos(a);
    }
  }
  return out;
}

export function buildWhisperEncoder(g: GraphBuilder, d: WhisperDims): void {
  const x = g.input('input_features', DType.float, ['batch_size', d.mels, FRAMES]);
  const w1 = g.weight('encoder.conv1.weight', [d.hidden, d.mels, 3], { normal: Math.sqrt(1 / (d.mels * 3)) });
  const b1 = g.weight('encoder.conv1.bias', [d.hidden], 'zeros');
  let h = gelu(g, g.op('Conv', [x, w1, b1], { kernel_shape: [3], pads: [1, 1] }));
  const w2 = g.weight('encoder.conv2.weight', [d.hidden, d.hidden, 3], { normal: Math.sqrt(1 / (d.hidden * 3)) });
  const b2 = g.weight('encoder.conv2.bias', [d.hidden], 'zeros');
  h = gelu(g, g.op('Conv', [h, w2, b2], { kernel_shape: [3], pads: [1, 1], strides: [2] }));
  h = g.op('Transpose', [h], { perm: [0, 2, 1] });
  h = g.op('Add', [h, g.weight('encoder.embed_positions', [SOURCE_POSITIONS, d.hidden], sinusoids(SOURCE_POSITIONS, d.hidden))]);
  for (let i = 0; i < d.encLayers; i++) {
    h = preLnLayer(g, h, {
      hidden: d.hidden,
      heads: d.heads,
      inter: d.inter,
      prefix: `encoder.layer.${i}`,
      eps: EPS,
      allowed: null,
      kBias: false,
    });
  }
  h = layerNorm(g, h, d.hidden, 'encoder.ln', EPS);
  g.output('last_hidden_state', h, DType.float, ['batch_size', SOURCE_POSITIONS, d.hidden]);
}

export function buildWhisperDecoder(g: GraphBuilder, d: WhisperDims, vocab: number): void {
  const dH = d.hidden / d.heads;
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'decoder_sequence_length']);
  const enc = g.input('encoder_hidden_states', DType.float, ['batch_size', 'encoder_sequence_length', d.hidden]);
  // Cross-attention K/V: computed from the encoder states on the first step, reused afterwards.
  const { pastDecoder: pastDec, cross } = mergedDecoderCache(g, d.decLayers, d.heads, dH, (i) => {
    const p = `decoder.layer.${i}.cross_attn`;
    const k = splitHeads(g, linear(g, enc, d.hidden, d.hidden, `${p}.k`, false), d.heads, dH);
    const v = splitHeads(g, linear(g, enc, d.hidden, d.hidden, `${p}.v`), d.heads, dH);
    return [k, v];
  });

  const past = dimOf(g, pastDec[0]![0], 2);
  const total = g.op('Add', [past, dimOf(g, ids, 1)]);
  const allowed = causalAllowed(g, past, total);
  const tokens = g.weight('decoder.embed_tokens', [vocab, d.hidden], { normal: INIT_STD * 5 });
  const positions = g.weight('decoder.embed_positions', [d.maxTarget, d.hidden], { normal: INIT_STD * 5 });
  const posIds = g.op('Range', [past, total, g.constI([1], [])]);
  let h = g.op('Add', [g.op('Gather', [tokens, ids]), g.op('Gather', [positions, posIds])]);

  for (let i = 0; i < d.decLayers; i++) {
    const p = `decoder.layer.${i}`;
    const a = layerNorm(g, h, d.hidden, `${p}.ln1`, EPS);
    const q = splitHeads(g, linear(g, a, d.hidden, d.hidden, `${p}.self_attn.q`), d.heads, dH);
    const kNew = splitHeads(g, linear(g, a, d.hidden, d.hidden, `${p}.self_attn.k`, false), d.heads, dH);
    const vNew = splitHeads(g, linear(g, a, d.hidden, d.hidden, `${p}.self_attn.v`), d.heads, dH);
    const [pk, pv] = pastDec[i]!;
    const keys = g.op('Concat', [pk, kNew], { axis: 2 });
    const values = g.op('Concat', [pv, vNew], { axis: 2 });
    const decShape = ['batch_size', d.heads, 'past_decoder_sequence_length + 1', dH];
    g.output(`present.${i}.decoder.key`, keys, DType.float, decShape);
    g.output(`present.${i}.decoder.value`, values, DType.float, decShape);
    const selfCtx = mergeHeads(g, sdpa(g, q, keys, values, dH, allowed), d.hidden);
    h = g.op('Add', [h, linear(g, selfCtx, d.hidden, d.hidden, `${p}.self_attn.o`)]);

    const c = layerNorm(g, h, d.hidden, `${p}.ln2`, EPS);
    const cq = splitHeads(g, linear(g, c, d.hidden, d.hidden, `${p}.cross_attn.q`), d.heads, dH);
    const ck = cross[2 * i]!;
    const cv = cross[2 * i + 1]!;
    const encShape = ['batch_size', d.heads, 'encoder_sequence_length_out', dH];
    g.output(`present.${i}.encoder.key`, ck, DType.float, encShape);
    g.output(`present.${i}.encoder.value`, cv, DType.float, encShape);
    const crossCtx = mergeHeads(g, sdpa(g, cq, ck, cv, dH, null), d.hidden);
    h = g.op('Add', [h, linear(g, crossCtx, d.hidden, d.hidden, `${p}.cross_attn.o`)]);

    h = g.op('Add', [h, ffn(g, layerNorm(g, h, d.hidden, `${p}.ln3`, EPS), d.hidden, d.inter, `${p}.mlp`)]);
  }
  h = layerNorm(g, h, d.hidden, 'decoder.ln', EPS);
  const projOut = g.weight('proj_out', [d.hidden, vocab], { normal: INIT_STD * 5 });
  g.output('logits', g.op('MatMul', [h, projOut]), DType.float, ['batch_size', 'decoder_sequence_length', vocab]);
}

/** config.json, generation_config.json and preprocessor_config.json for a Whisper folder. */
export function whisperConfigs(d: WhisperDims, s: WhisperSpecials): Record<string, Record<string, unknown>> {
  const beginSuppress = [220, s.eot].filter((id) => id < s.vocabSize);
  return {
    'config.json': {
      model_type: 'whisper',
      architectures: ['WhisperForConditionalGeneration'],
      vocab_size: s.vocabSize,
      d_model: d.hidden,
      encoder_layers: d.encLayers,
      decoder_layers: d.decLayers,
      encoder_attention_heads: d.heads,
      decoder_attention_heads: d.heads,
      encoder_ffn_dim: d.inter,
      decoder_ffn_dim: d.inter,
      num_mel_bins: d.mels,
      max_source_positions: SOURCE_POSITIONS,
      max_target_positions: d.maxTarget,
      activation_function: 'gelu',
      scale_embedding: false,
      is_encoder_decoder: true,
      use_cache: true,
      bos_token_id: s.eot,
      eos_token_id: s.eot,
      pad_token_id: s.eot,
      decoder_start_token_id: s.sot,
      begin_suppress_tokens: beginSuppress,
      median_filter_width: 7,
      tie_word_embeddings: false,
    },
    'generation_config.json': {
      bos_token_id: s.eot,
      eos_token_id: s.eot,
      pad_token_id: s.eot,
      decoder_start_token_id: s.sot,
      max_length: d.maxTarget,
      no_timestamps_token_id: s.noTimestamps,
      prev_sot_token_id: s.startOfPrev,
      is_multilingual: true,
      lang_to_id: s.langToId,
      task_to_id: { transcribe: s.transcribe, translate: s.translate },
      begin_suppress_tokens: beginSuppress,
      suppress_tokens: [],
    },
    'preprocessor_config.json': {
      feature_extractor_type: 'WhisperFeatureExtractor',
      processor_class: 'WhisperProcessor',
      feature_size: d.mels,
      sampling_rate: 16000,
      hop_length: 160,
      n_fft: 400,
      n_samples: 480000,
      nb_max_frames: FRAMES,
      chunk_length: 30,
      padding_side: 'right',
      padding_value: 0,
      return_attention_mask: false,
    },
  };
}
