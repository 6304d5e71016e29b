/**
 * @module archs/clip
 * CLIPModel for zero-shot image classification: a causal text transformer pooled at the
 * end-of-text token (the highest id, as in CLIP), a ViT vision tower with pre/post layer norms,
 * linear projections, L2 normalisation and a learned logit scale.
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { INIT_STD, causalAllowed, dimOf, layerNorm, paddingAllowed, preLnLayer } from '../layers.js';
import { patchEmbed, visionEncoder } from './vit.js';

/** CLIP sizes. */
export interface ClipDims {
  vocab: number;
  textHidden: number;
  textLayers: number;
  textHeads: number;
  maxPos: number;
  visionHidden: number;
  visionLayers: number;
  visionHeads: number;
  image: number;
  patch: number;
  proj: number;
}

const CLIP_EPS = 1e-5;

function l2normalize(g: GraphBuilder, x: string): string {
  return g.op('Div', [x, g.op('ReduceL2', [x], { axes: [-1], keepdims: 1 })]);
}

export function buildClip(g: GraphBuilder, d: ClipDims): void {
  const ids = g.input('input_ids', DType.int64, ['text_batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DType.int64, ['text_batch_size', 'sequence_length']);
  const px = g.input('pixel_values', DType.float, ['image_batch_size', 3, d.image, d.image]);

  // Text tower.
  const tok = g.weight('text.embeddings.token', [d.vocab, d.textHidden], { normal: INIT_STD * 5 });
  const posW = g.weight('text.embeddings.position', [d.maxPos, d.textHidden], { normal: INIT_STD * 5 });
  const seqLen = dimOf(g, ids, 1);
  const zero = g.constI([0], []);
  const pos = g.op('Range', [zero, seqLen, g.constI([1], [])]);
  let t = g.op('Add', [g.op('Gather', [tok, ids]), g.op('Gather', [posW, pos])]);
  const allowed = g.op('And', [causalAllowed(g, zero, seqLen), paddingAllowed(g, mask)]);
  for (let i = 0; i < d.textLayers; i++) {
    t = preLnLayer(g, t, {
      hidden: d.textHidden,
      heads: d.textHeads,
      inter: 4 * d.textHidden,
      prefix: `text.layer.${i}`,
      eps: CLIP_EPS,
      allowed,
    });
  }
  t = layerNorm(g, t, d.textHidden, 'text.final_ln', CLIP_EPS);
  const eot = g.op('ArgMax', [ids], { axis: -1, keepdims: 1 });
  const onehot = g.op('Cast', [g.op('Equal', [eot, pos])], { to: DType.float });
  const pooledT = g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [onehot, g.constI([1])]), t]), g.constI([1])]);
  const textProj = g.weight('text_projection', [d.textHidden, d.proj], { normal: INIT_STD * 5 });
  const textEmbeds = l2normalize(g, g.op('MatMul', [pooledT, textProj]));

  // Vision tower.
  let v = patchEmbed(g, px, { image: d.image, patch: d.patch, hidden: d.visionHidden, prefix: 'vision.embeddings', bias: false });
  v = layerNorm(g, v, d.visionHidden, 'vision.pre_ln', CLIP_EPS);
  v = visionEncoder(g, v, {
    hidden: d.visionHidden,
    heads: d.visionHeads,
    inter: 4 * d.visionHidden,
    layers: d.visionLayers,
    prefix: 'vision',
    eps: CLIP_EPS,
  });
  const cls = layerNorm(g, g.op('Gather', [v, g.constI([0], [])], { axis: 1 }), d.visionHidden, 'vision.post_ln', CLIP_EPS);
  const visProj = g.weight('visual_projection', [d.visionHidden, d.proj], { normal: INIT_STD * 5 });
  const imageEmbeds = l2normalize(g, g.op('MatMul', [cls, visProj]));

  const scale = g.op('Exp', [g.weight('logit_scale', [], new Float32Array([2.6592]))]);
  const perText = g.op('Mul', [g.op('MatMul', [textEmbeds, g.op('Transpose', [imageEmbeds], { perm: [1, 0] })]), scale]);
  g.output('logits_per_image', g.op('Transpose', [perText], { perm: [1, 0] }), DType.float, ['image_batch_size', 'text_batch_size']);
  g.output('logits_per_text', perText, DType.float, ['text_batch_size', 'image_batch_size']);
  g.output('text_embeds', textEmbeds, DType.float, ['text_batch_size', d.proj]);
  g.output('image_embeds', imageEmbeds, DType.float, ['image_batch_size', d.proj]);
}

export function clipConfig(d: ClipDims): Record<string, unknown> {
  return {
    model_type: 'clip',
    architectures: ['CLIPModel'],
    projection_dim: d.proj,
    logit_scale_init_value: 2.6592,
    text_config: {
      model_type: 'clip_text_model',
      vocab_size: d.vocab,
      hidden_size: d.textHidden,
      num_hidden_layers: d.textLayers,
      num_attention_heads: d.textHeads,
      intermediate_size: 4 * d.textHidden,
      max_position_embeddings: d.maxPos,
      bos_token_id: d.vocab - 2,
      eos_token_id: d.vocab - 1,
      pad_token_id: d.vocab - 1,
      projection_dim: d.proj,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: d.visionHidden,
      num_hidden_layers: d.visionLayers,
      num_attention_heads: d.visionHeads,
      intermediate_size: 4 * d.visionHidden,
      image_size: d.image,
      patch_size: d.patch,
      projection_dim: d.proj,
    },
  };
}

export function clipPreprocessor(d: ClipDims): Record<string, unknown> {
  return {
    image_processor_type: 'CLIPImageProcessor',
    processor_class: 'CLIPProcessor',
    do_resize: true,
    size: { shortest_edge: d.image },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: d.image, width: d.image },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    do_convert_rgb: true,
  };
}
