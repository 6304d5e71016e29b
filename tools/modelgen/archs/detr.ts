/**
 * @module archs/detr
 * DetrForObjectDetection: a strided conv backbone, 1x1 input projection, 2-D sine position
 * embeddings, a post-LN transformer encoder over the feature map (padding from `pixel_mask`),
 * a decoder over learned object queries with self- and cross-attention, a class head with the
 * extra "no object" class and a 3-layer box MLP with sigmoid (cx, cy, w, h in 0..1).
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { layerNorm, linear, mergeHeads, sdpa, splitHeads } from '../layers.js';

/** DETR sizes. */
export interface DetrDims {
  image: number;
  hidden: number;
  encLayers: number;
  decLayers: number;
  heads: number;
  inter: number;
  queries: number;
}

const DETR_EPS = 1e-5;
const BACKBONE = [16, 32, 64];

function dim1(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [x]), g.constI([axis])], { axis: 0 });
}

function attn(g: GraphBuilder, q: string, k: string, v: string, d: DetrDims, prefix: string, allowed: string | null): string {
  const dH = d.hidden / d.heads;
  const qh = splitHeads(g, linear(g, q, d.hidden, d.hidden, `${prefix}.q`), d.heads, dH);
  const kh = splitHeads(g, linear(g, k, d.hidden, d.hidden, `${prefix}.k`), d.heads, dH);
  const vh = splitHeads(g, linear(g, v, d.hidden, d.hidden, `${prefix}.v`), d.heads, dH);
  return linear(g, mergeHeads(g, sdpa(g, qh, kh, vh, dH, allowed), d.hidden), d.hidden, d.hidden, `${prefix}.o`);
}

function reluFfn(g: GraphBuilder, x: string, d: DetrDims, prefix: string): string {
  const h = g.op('Relu', [linear(g, x, d.hidden, d.inter, `${prefix}.fc1`)]);
  return linear(g, h, d.inter, d.hidden, `${prefix}.fc2`);
}

/** 2-D sine positions for an [h, w] map -> [h*w, hidden] (y features then x features). */
function sinePositions(g: GraphBuilder, feat: string, hidden: number): string {
  const quarter = hidden / 4;
  const invFreq = Array.from({ length: quarter }, (_, i) => 1 / 10000 ** ((2 * i) / (hidden / 2)));
  const freq = g.constF(invFreq, [1, quarter]);
  const axisEmbed = (axis: number): string => {
    const n = g.op('Gather', [g.op('Shape', [feat]), g.constI([axis], [])], { axis: 0 });
    const r = g.op('Cast', [g.op('Range', [g.constI([1], []), g.op('Add', [n, g.constI([1], [])]), g.constI([1], [])])], {
      to: DType.float,
    });
    const norm = g.op('Mul', [g.op('Div', [r, g.op('Cast', [n], { to: DType.float })]), g.constF([2 * Math.PI], [])]);
    const arg = g.op('MatMul', [g.op('Unsqueeze', [norm, g.constI([1])]), freq]);
    return g.op('Concat', [g.op('Sin', [arg]), g.op('Cos', [arg])], { axis: -1 });
  };
  const py = axisEmbed(2);
  const px = axisEmbed(3);
  const half = g.constI([hidden / 2]);
  const shape = g.op('Concat', [dim1(g, feat, 2), dim1(g, feat, 3), half], { axis: 0 });
  const ey = g.op('Expand', [g.op('Unsqueeze', [py, g.constI([1])]), shape]);
  const ex = g.op('Expand', [g.op('Unsqueeze', [px, g.constI([0])]), shape]);
  return g.op('Reshape', [g.op('Concat', [ey, ex], { axis: -1 }), g.constI([-1, hidden])]);
}

export function buildDetr(g: GraphBuilder, d: DetrDims, nLabels: number): void {
  const px = g.input('pixel_values', DType.float, ['batch_size', 3, 'height', 'width']);
  const pmask = g.input('pixel_mask', DType.int64, ['batch_size', 'mask_height', 'mask_width']);

  // Backbone: 3x3 stride-2 convs with ReLU (output stride 8), then a 1x1 projection.
  let f = px;
  let cin = 3;
  BACKBONE.forEach((cout, i) => {
    const w = g.weight(`backbone.conv${i}.weight`, [cout, cin, 3, 3], { normal: Math.sqrt(2 / (cin * 9)) });
    const b = g.weight(`backbone.conv${i}.bias`, [cout], 'zeros');
    f = g.op('Relu', [g.op('Conv', [f, w, b], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })]);
    cin = cout;
  });
  const pw = g.weight('input_projection.weight', [d.hidden, cin, 1, 1], { normal: Math.sqrt(1 / cin) });
  const feat = g.op('Conv', [f, pw, g.weight('input_projection.bias', [d.hidden], 'zeros')], { kernel_shape: [1, 1] });
  const src0 = g.op('Transpose', [g.op('Reshape', [feat, g.constI([0, d.hidden, -1])])], { perm: [0, 2, 1] });
  const pos = sinePositions(g, feat, d.hidden);

  // Pixel mask resized (nearest) to the feature map -> key padding mask.
  const maskF = g.op('Unsqueeze', [g.op('Cast', [pmask], { to: DType.float }), g.constI([1])]);
  const sizes = g.op('Concat', [dim1(g, feat, 0), g.constI([1]), dim1(g, feat, 2), dim1(g, feat, 3)], { axis: 0 });
  const small = g.op('Resize', [maskF, '', '', sizes], { mode: 'nearest' });
  const keyMask = g.op('Cast', [g.op('Reshape', [small, g.constI([0, -1])])], { to: DType.bool });
  const allowed = g.op('Unsqueeze', [keyMask, g.constI([1, 2])]);

  let src = src0;
  for (let i = 0; i < d.encLayers; i++) {
    const p = `encoder.layer.${i}`;
    const qk = g.op('Add', [src, pos]);
    src = layerNorm(g, g.op('Add', [src, attn(g, qk, qk, src, d, `${p}.self_attn`, allowed)]), d.hidden, `${p}.ln1`, DETR_EPS);
    src = layerNorm(g, g.op('Add', [src, reluFfn(g, src, d, `${p}.mlp`)]), d.hidden, `${p}.ln2`, DETR_EPS);
  }
  const memKey = g.op('Add', [src, pos]);

  const queryPos = g.weight('query_position_embeddings', [d.queries, d.hidden], { normal: 1 });
  const tgtShape = g.op('Concat', [dim1(g, px, 0), g.constI([d.queries, d.hidden])], { axis: 0 });
  let tgt = g.op('Expand', [g.constF([0], [1, 1, 1]), tgtShape]);
  for (let i = 0; i < d.decLayers; i++) {
    const p = `decoder.layer.${i}`;
    const q = g.op('Add', [tgt, queryPos]);
    tgt = layerNorm(g, g.op('Add', [tgt, attn(g, q, q, tgt, d, `${p}.self_attn`, null)]), d.hidden, `${p}.ln1`, DETR_EPS);
    const q2 = g.op('Add', [tgt, queryPos]);
    tgt = layerNorm(g, g.op('Add', [tgt, attn(g, q2, memKey, src, d, `${p}.cross_attn`, allowed)]), d.hidden, `${p}.ln2`, DETR_EPS);
    tgt = layerNorm(g, g.op('Add', [tgt, reluFfn(g, tgt, d, `${p}.mlp`)]), d.hidden, `${p}.ln3`, DETR_EPS);
  }
  tgt = layerNorm(g, tgt, d.hidden, 'decoder.ln', DETR_EPS);

  const logits = linear(g, tgt, d.hidden, nLabels + 1, 'class_labels_classifier');
  let b = g.op('Relu', [linear(g, tgt, d.hidden, d.hidden, 'bbox_predictor.0')]);
  b = g.op('Relu', [linear(g, b, d.hidden, d.hidden, 'bbox_predictor.1')]);
  const boxes = g.op('Sigmoid', [linear(g, b, d.hidden, 4, 'bbox_predictor.2')]);
  g.output('logits', logits, DType.float, ['batch_size', d.queries, nLabels + 1]);
  g.output('pred_boxes', boxes, DType.float, ['batch_size', d.queries, 4]);
}

export function detrConfig(d: DetrDims, labels: string[]): Record<string, unknown> {
  return {
    model_type: 'detr',
    architectures: ['DetrForObjectDetection'],
    d_model: d.hidden,
    encoder_layers: d.encLayers,
    decoder_layers: d.decLayers,
    encoder_attention_heads: d.heads,
    decoder_attention_heads: d.heads,
    encoder_ffn_dim: d.inter,
    decoder_ffn_dim: d.inter,
    num_queries: d.queries,
    activation_function: 'relu',
    position_embedding_type: 'sine',
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}

export function detrPreprocessor(d: DetrDims): Record<string, unknown> {
  return {
    image_processor_type: 'DetrImageProcessor',
    do_resize: true,
    size: { shortest_edge: d.image, longest_edge: d.image * 2 },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
    do_pad: true,
    format: 'coco_detection',
  };
}
