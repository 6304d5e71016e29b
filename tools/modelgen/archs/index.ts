/**
 * @module archs
 * The table of generated architectures: their size presets, dimension checks and builders.
 * Each builder returns the JSON files and ONNX graphs of one model folder.
 */
import { ModelGenError } from '../errors.js';
import { GraphBuilder, type Weight } from '../onnx-builder.js';
import {
  bertTokenizer,
  clipTokenizer,
  gpt2Tokenizer,
  llamaTokenizer,
  qwen2Tokenizer,
  t5Tokenizer,
  whisperTokenizer,
  type TokenizerFiles,
} from '../tokenizers.js';
import { bertConfig, buildBert, type BertDims } from './bert.js';
import { buildGpt2, gpt2Config, type Gpt2Dims } from './gpt2.js';
import { LLAMA, QWEN2, buildLlama, llamaConfig, type LlamaDims, type LlamaFlavor } from './llama.js';
import { quantizeModel, type QuantKind } from '../quantize.js';
import { buildT5Decoder, buildT5Encoder, t5Configs, type T5Dims } from './t5.js';
import { buildVit, vitConfig, vitPreprocessor, type VitDims } from './vit.js';
import { buildDetr, detrConfig, detrPreprocessor, type DetrDims } from './detr.js';
import { buildClip, clipConfig, clipPreprocessor, type ClipDims } from './clip.js';
import { buildWhisperDecoder, buildWhisperEncoder, whisperConfigs, type WhisperDims } from './whisper.js';
import { buildCaptionDecoder, buildCaptionEncoder, captionConfigs, type VitGpt2Dims } from './vit-gpt2.js';

/** One built model folder, before writing. */
export interface BuiltModel {
  json: Record<string, Record<string, unknown>>;
  onnx: Record<string, { bytes: Uint8Array; weights: Map<string, Weight> }>;
}

/** Options beyond dimensions. */
export interface BuildOptions {
  /** GPT-2: add a chat template to tokenizer_config.json (default false, like distilgpt2). */
  chat?: boolean;
}

interface ArchSpec<D> {
  sizes: Record<string, D>;
  validate(d: D): void;
  build(d: D, seed: number, opts: BuildOptions): BuiltModel;
}

function heads(hidden: number, nHeads: number, what = 'hidden'): void {
  if (hidden % nHeads !== 0) throw new ModelGenError(`${what} (${hidden}) must be divisible by heads (${nHeads})`);
}

function graph(seed: number, name: string, body: (g: GraphBuilder) => void): { bytes: Uint8Array; weights: Map<string, Weight> } {
  const g = new GraphBuilder(seed);
  body(g);
  return { bytes: g.toBytes(name), weights: g.weights };
}

const SENTIMENT = ['NEGATIVE', 'POSITIVE'];
const IMAGE_LABELS = ['cat', 'dog', 'car', 'tree', 'house'];
const DETR_LABELS = ['N/A', 'person', 'bicycle', 'car', 'dog'];

const bertSizes: Record<string, BertDims> = {
  tiny: { vocab: 1000, hidden: 32, layers: 2, heads: 4, inter: 64, maxPos: 128 },
  'minilm-l6': { vocab: 30522, hidden: 384, layers: 6, heads: 12, inter: 1536, maxPos: 512 },
};

function bertArch(labels?: string[], perToken = false): ArchSpec<BertDims> {
  return {
    sizes: bertSizes,
    validate: (d) => heads(d.hidden, d.heads),
    build: (d, seed) => {
      const tok = bertTokenizer(d.vocab, d.maxPos);
      return {
        json: { 'config.json': bertConfig(d, labels, perToken), 'tokenizer.json': tok.tokenizer, 'tokenizer_config.json': tok.config },
        onnx: { model: graph(seed, 'bert', (g) => buildBert(g, d, labels, perToken)) },
      };
    },
  };
}

/** The file names the Hub's ONNX repos use for each quantized variant (transformers.js dtype suffixes). */
export const VARIANT_FILES: Record<QuantKind, string> = { q8: 'model_quantized', q4: 'model_q4', fp16: 'model_fp16' };

/**
 * The quantized variants of a float model, each with its weights as the variant computes with
 * them (rewritten MatMul weights dequantized, the rest unchanged).
 */
function quantizedVariants(model: { bytes: Uint8Array; weights: Map<string, Weight> }): BuiltModel['onnx'] {
  const out: BuiltModel['onnx'] = {};
  for (const kind of Object.keys(VARIANT_FILES) as QuantKind[]) {
    const q = quantizeModel(model.bytes, kind);
    const weights = new Map(model.weights);
    for (const [name, data] of q.dequantized) {
      const w = model.weights.get(name);
      if (w) weights.set(name, { dims: w.dims, data }); // constants are not weights
    }
    out[VARIANT_FILES[kind]] = { bytes: q.bytes, weights };
  }
  return out;
}

function llamaValidate(d: LlamaDims): void {
  heads(d.hidden, d.heads);
  if (d.heads % d.kvHeads !== 0) throw new ModelGenError(`heads (${d.heads}) must be divisible by kvHeads (${d.kvHeads})`);
  if ((d.hidden / d.heads) % 2 !== 0) throw new ModelGenError('the head size must be even for rotary embeddings');
}

/**
 * A Llama-family architecture: the flavour's graph with its quantized variants, and a tokenizer
 * with its special ids (the first of `eos` is config.json's; generation stops at any of them).
 */
function llamaArch(
  flavor: LlamaFlavor,
  sizes: Record<string, LlamaDims>,
  tokenizer: (d: LlamaDims) => { files: TokenizerFiles; bos: number; eos: number[]; pad: number },
): ArchSpec<LlamaDims> {
  return {
    sizes,
    validate: llamaValidate,
    build: (d, seed) => {
      const t = tokenizer(d);
      const model = graph(seed, flavor.modelType, (g) => buildLlama(g, d, flavor));
      return {
        json: {
          'config.json': llamaConfig(d, flavor, t.bos, t.eos[0]!),
          'generation_config.json': { bos_token_id: t.bos, eos_token_id: t.eos.length === 1 ? t.eos[0] : t.eos, pad_token_id: t.pad },
          'tokenizer.json': t.files.tokenizer,
          'tokenizer_config.json': t.files.config,
        },
        onnx: { model, ...quantizedVariants(model) },
      };
    },
  };
}

/** Every generated architecture, by CLI name. */
export const ARCHS = {
  bert: bertArch(),
  'bert-classifier': bertArch(SENTIMENT),
  // A cross-encoder (reranker): one relevance logit over a query-document pair.
  'bert-cross-encoder': bertArch(['LABEL_0']),
  // An NLI classifier (premise, hypothesis), as zero-shot text classification uses.
  'bert-nli': bertArch(['contradiction', 'neutral', 'entailment']),
  // Named entities, CoNLL-style BIO tags over every token.
  'bert-ner': bertArch(['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'], true),
  gpt2: {
    sizes: {
      tiny: { vocab: 600, hidden: 32, layers: 2, heads: 4, maxPos: 128 },
      distilgpt2: { vocab: 50257, hidden: 768, layers: 6, heads: 12, maxPos: 1024 },
    },
    validate: (d) => heads(d.hidden, d.heads),
    build: (d, seed, opts) => {
      const chat =
        "{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
      const tok = gpt2Tokenizer(d.vocab, d.maxPos, opts.chat ? chat : undefined);
      const eos = d.vocab - 1;
      return {
        json: {
          'config.json': gpt2Config(d, eos),
          'generation_config.json': { bos_token_id: eos, eos_token_id: eos },
          'tokenizer.json': tok.tokenizer,
          'tokenizer_config.json': tok.config,
        },
        onnx: { model: graph(seed, 'gpt2', (g) => buildGpt2(g, d)) },
      };
    },
  } satisfies ArchSpec<Gpt2Dims>,
  qwen2: llamaArch(
    QWEN2,
    {
      tiny: { vocab: 600, hidden: 64, layers: 2, heads: 4, kvHeads: 2, inter: 128, maxPos: 512 },
      // Qwen2.5-0.5B's widths, heads and key/value heads; 2 of its 24 layers and a 32768-token
      // vocabulary (of 151936), so the fixture stays small enough to build in a test run.
      'qwen2.5-0.5b': { vocab: 32768, hidden: 896, layers: 2, heads: 14, kvHeads: 2, inter: 4864, maxPos: 32768 },
    },
    (d) => {
      const files = qwen2Tokenizer(d.vocab, d.maxPos);
      const { endoftext, imEnd } = files.specials;
      return { files, bos: endoftext, eos: [imEnd, endoftext], pad: endoftext };
    },
  ),
  llama: llamaArch(
    LLAMA,
    {
      tiny: { vocab: 600, hidden: 64, layers: 2, heads: 4, kvHeads: 2, inter: 128, maxPos: 512 },
      // TinyLlama-1.1B's widths, heads and key/value heads; 1 of its 22 layers and an
      // 8192-piece vocabulary (of 32000), so the fixture stays small enough to build in a test run.
      'tinyllama-1.1b': { vocab: 8192, hidden: 2048, layers: 1, heads: 32, kvHeads: 4, inter: 5632, maxPos: 2048 },
    },
    (d) => ({ files: llamaTokenizer(d.vocab, d.maxPos), bos: 1, eos: [2], pad: 0 }),
  ),
  t5: {
    sizes: {
      tiny: { vocab: 600, hidden: 32, dKv: 8, heads: 4, ff: 64, layers: 2, decLayers: 2 },
      // FLAN-T5-small's widths, heads, head size and full vocabulary; 2 of its 8 encoder and
      // 8 decoder layers, so the fixture stays small enough to build in a test run.
      'flan-t5-small': { vocab: 32128, hidden: 512, dKv: 64, heads: 6, ff: 1024, layers: 2, decLayers: 2 },
    },
    validate: () => undefined,
    build: (d, seed) => {
      const tok = t5Tokenizer(d.vocab, 512);
      const encoder = graph(seed, 't5_encoder', (g) => buildT5Encoder(g, d));
      const shared = encoder.weights.get('shared')!.data;
      return {
        json: { ...t5Configs(d), 'tokenizer.json': tok.tokenizer, 'tokenizer_config.json': tok.config },
        onnx: { encoder_model: encoder, decoder_model_merged: graph(seed + 1, 't5_decoder', (g) => buildT5Decoder(g, d, shared)) },
      };
    },
  } satisfies ArchSpec<T5Dims>,
  vit: {
    sizes: { tiny: { image: 32, patch: 8, hidden: 32, layers: 2, heads: 4, inter: 64 } },
    validate: (d) => {
      heads(d.hidden, d.heads);
      if (d.image % d.patch !== 0) throw new ModelGenError(`image (${d.image}) must be divisible by patch (${d.patch})`);
    },
    build: (d, seed) => ({
      json: { 'config.json': vitConfig(d, IMAGE_LABELS), 'preprocessor_config.json': vitPreprocessor(d) },
      onnx: { model: graph(seed, 'vit', (g) => buildVit(g, d, IMAGE_LABELS.length)) },
    }),
  } satisfies ArchSpec<VitDims>,
  detr: {
    sizes: { tiny: { image: 64, hidden: 32, encLayers: 1, decLayers: 1, heads: 4, inter: 64, queries: 10 } },
    validate: (d) => {
      heads(d.hidden, d.heads);
      if (d.hidden % 4 !== 0) throw new ModelGenError(`hidden (${d.hidden}) must be divisible by 4 for 2-D sine positions`);
    },
    build: (d, seed) => ({
      json: { 'config.json': detrConfig(d, DETR_LABELS), 'preprocessor_config.json': detrPreprocessor(d) },
      onnx: { model: graph(seed, 'detr', (g) => buildDetr(g, d, DETR_LABELS.length)) },
    }),
  } satisfies ArchSpec<DetrDims>,
  clip: {
    sizes: {
      tiny: {
        vocab: 600,
        textHidden: 32,
        textLayers: 2,
        textHeads: 4,
        maxPos: 32,
        visionHidden: 32,
        visionLayers: 2,
        visionHeads: 4,
        image: 32,
        patch: 8,
        proj: 16,
      },
    },
    validate: (d) => {
      heads(d.textHidden, d.textHeads, 'textHidden');
      heads(d.visionHidden, d.visionHeads, 'visionHidden');
      if (d.image % d.patch !== 0) throw new ModelGenError(`image (${d.image}) must be divisible by patch (${d.patch})`);
    },
    build: (d, seed) => {
      const tok = clipTokenizer(d.vocab, d.maxPos);
      return {
        json: {
          'config.json': clipConfig(d),
          'preprocessor_config.json': clipPreprocessor(d),
          'tokenizer.json': tok.tokenizer,
          'tokenizer_config.json': tok.config,
        },
        onnx: { model: graph(seed, 'clip', (g) => buildClip(g, d)) },
      };
    },
  } satisfies ArchSpec<ClipDims>,
  whisper: {
    sizes: {
      tiny: { textVocab: 600, hidden: 32, encLayers: 2, decLayers: 2, heads: 4, inter: 64, mels: 80, maxTarget: 64 },
      'whisper-tiny': { textVocab: 50257, hidden: 384, encLayers: 4, decLayers: 4, heads: 6, inter: 1536, mels: 80, maxTarget: 448 },
    },
    validate: (d) => heads(d.hidden, d.heads),
    build: (d, seed) => {
      const tok = whisperTokenizer(d.textVocab, 1024);
      const cfg = whisperConfigs(d, tok.specials);
      return {
        json: { ...cfg, 'tokenizer.json': tok.tokenizer, 'tokenizer_config.json': tok.config },
        onnx: {
          encoder_model: graph(seed, 'whisper_encoder', (g) => buildWhisperEncoder(g, d)),
          decoder_model_merged: graph(seed + 1, 'whisper_decoder', (g) => buildWhisperDecoder(g, d, tok.specials.vocabSize)),
        },
      };
    },
  } satisfies ArchSpec<WhisperDims>,
  // An image captioner: ViT encoder, GPT-2 decoder with cross-attention (vit-gpt2-image-captioning).
  'vit-gpt2': {
    sizes: { tiny: { image: 32, patch: 8, hidden: 32, encLayers: 2, heads: 4, inter: 64, vocab: 600, decLayers: 2, maxPos: 64 } },
    validate: (d) => {
      heads(d.hidden, d.heads);
      if (d.image % d.patch !== 0) throw new ModelGenError(`image (${d.image}) must be divisible by patch (${d.patch})`);
    },
    build: (d, seed) => {
      const tok = gpt2Tokenizer(d.vocab, d.maxPos);
      return {
        json: { ...captionConfigs(d, d.vocab - 1), 'tokenizer.json': tok.tokenizer, 'tokenizer_config.json': tok.config },
        onnx: {
          encoder_model: graph(seed, 'vit_gpt2_encoder', (g) => buildCaptionEncoder(g, d)),
          decoder_model_merged: graph(seed + 1, 'vit_gpt2_decoder', (g) => buildCaptionDecoder(g, d)),
        },
      };
    },
  } satisfies ArchSpec<VitGpt2Dims>,
} as const;

/** A generated architecture's CLI name. */
export type ArchName = keyof typeof ARCHS;
/** Resolved dimensions of any architecture. */
export type Dims = BertDims | Gpt2Dims | LlamaDims | T5Dims | VitDims | DetrDims | ClipDims | WhisperDims | VitGpt2Dims;
