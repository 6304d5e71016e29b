/**
 * @module archs/vit
 * ViTForImageClassification: conv patch embedding, CLS token, learned positions, pre-LN encoder,
 * final layer norm and a linear head on the CLS token. `patchEmbed` and `visionEncoder` are
 * shared with CLIP's vision tower.
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { INIT_STD, layerNorm, linear, preLnLayer } from '../layers.js';

/** ViT sizes. */
export interface VitDims {
  image: number;
  patch: number;
  hidden: number;
  layers: number;
  heads: number;
  inter: number;
}

const VIT_EPS = 1e-12;

/** pixel_values [B,3,S,S] -> [B, 1 + (S/p)^2, H] with CLS token and positions added. */
export function patchEmbed(
  g: GraphBuilder,
  px: string,
  o: { image: number; patch: number; hidden: number; prefix: string; bias: boolean },
): string {
  const n = (o.image / o.patch) ** 2;
  const w = g.weight(`${o.prefix}.patch.weight`, [o.hidden, 3, o.patch, o.patch], { normal: INIT_STD * 5 });
  const conv = o.bias
    ? g.op('Conv', [px, w, g.weight(`${o.prefix}.patch.bias`, [o.hidden], { normal: INIT_STD })], {
        kernel_shape: [o.patch, o.patch],
        strides: [o.patch, o.patch],
      })
    : g.op('Conv', [px, w], { kernel_shape: [o.patch, o.patch], strides: [o.patch, o.patch] });
  const seq = g.op('Transpose', [g.op('Reshape', [conv, g.constI([0, o.hidden, -1])])], { perm: [0, 2, 1] });
  const batch = g.op('Gather', [g.op('Shape', [px]), g.constI([0])], { axis: 0 });
  const cls = g.weight(`${o.prefix}.cls`, [1, 1, o.hidden], { normal: INIT_STD * 5 });
  const clsB = g.op('Expand', [cls, g.op('Concat', [batch, g.constI([1, o.hidden])], { axis: 0 })]);
  const tokens = g.op('Concat', [clsB, seq], { axis: 1 });
  const pos = g.weight(`${o.prefix}.position`, [1, n + 1, o.hidden], { normal: INIT_STD * 5 });
  return g.op('Add', [tokens, pos]);
}

/** Runs `layers` pre-LN layers with full attention. */
export function visionEncoder(
  g: GraphBuilder,
  x: string,
  o: { hidden: number; heads: number; inter: number; layers: number; prefix: string; eps: number },
): string {
  let h = x;
  for (let i = 0; i < o.layers; i++) {
    h = preLnLayer(g, h, { hidden: o.hidden, heads: o.heads, inter: o.inter, prefix: `${o.prefix}.layer.${i}`, eps: o.eps, allowed: null });
  }
  return h;
}

export function buildVit(g: GraphBuilder, d: VitDims, nLabels: number): void {
  const px = g.input('pixel_values', DType.float, ['batch_size', 3, d.image, d.image]);
  let h = patchEmbed(g, px, { image: d.image, patch: d.patch, hidden: d.hidden, prefix: 'vit.embeddings', bias: true });
  h = visionEncoder(g, h, { hidden: d.hidden, heads: d.heads, inter: d.inter, layers: d.layers, prefix: 'vit', eps: VIT_EPS });
  h = layerNorm(g, h, d.hidden, 'vit.ln', VIT_EPS);
  const cls = g.op('Gather', [h, g.constI([0], [])], { axis: 1 });
  g.output('logits', linear(g, cls, d.hidden, nLabels, 'classifier'), DType.float, ['batch_size', nLabels]);
}

export function vitConfig(d: VitDims, labels: string[]): Record<string, unknown> {
  return {
    model_type: 'vit',
    architectures: ['ViTForImageClassification'],
    hidden_size: d.hidden,
    num_hidden_layers: d.layers,
    num_attention_heads: d.heads,
    intermediate_size: d.inter,
    image_size: d.image,
    patch_size: d.patch,
    num_channels: 3,
    layer_norm_eps: VIT_EPS,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}

export function vitPreprocessor(d: Pick<VitDims, 'image'>): Record<string, unknown> {
  return {
    image_processor_type: 'ViTImageProcessor',
    do_resize: true,
    size: { height: d.image, width: d.image },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };
}
