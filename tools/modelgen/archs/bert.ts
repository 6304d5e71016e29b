/**
 * @module archs/bert
 * BERT encoder (BertModel -> last_hidden_state) and BertForSequenceClassification (-> logits),
 * post-LN, with word/position/token-type embeddings and a padding mask.
 */
import { DType, GraphBuilder } from '../onnx-builder.js';
import { INIT_STD, dimOf, layerNorm, linear, paddingAllowed, postLnLayer } from '../layers.js';

/** BERT sizes. */
export interface BertDims {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  inter: number;
  maxPos: number;
}

/** LayerNorm epsilon used by BERT. */
export const BERT_EPS = 1e-12;

/**
 * Builds the graph; with `labels`, adds the pooler and classification head, or with `perToken`
 * a classifier over every token's state (token classification, e.g. named entities).
 */
export function buildBert(g: GraphBuilder, d: BertDims, labels?: string[], perToken = false): void {
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DType.int64, ['batch_size', 'sequence_length']);
  const tt = g.input('token_type_ids', DType.int64, ['batch_size', 'sequence_length']);
  const word = g.weight('embeddings.word', [d.vocab, d.hidden], { normal: INIT_STD * 5 });
  const posW = g.weight('embeddings.position', [d.maxPos, d.hidden], { normal: INIT_STD * 5 });
  const typeW = g.weight('embeddings.token_type', [2, d.hidden], { normal: INIT_STD * 5 });
  const pos = g.op('Range', [g.constI([0], []), dimOf(g, ids, 1), g.constI([1], [])]);
  let h = g.op('Add', [g.op('Gather', [word, ids]), g.op('Gather', [posW, pos])]);
  h = g.op('Add', [h, g.op('Gather', [typeW, tt])]);
  h = layerNorm(g, h, d.hidden, 'embeddings.ln', BERT_EPS);
  const allowed = paddingAllowed(g, mask);
  for (let i = 0; i < d.layers; i++) {
    h = postLnLayer(g, h, { hidden: d.hidden, heads: d.heads, inter: d.inter, prefix: `layer.${i}`, eps: BERT_EPS, allowed });
  }
  if (!labels) {
    g.output('last_hidden_state', h, DType.float, ['batch_size', 'sequence_length', d.hidden]);
    return;
  }
  if (perToken) {
    const tokenLogits = linear(g, h, d.hidden, labels.length, 'classifier');
    g.output('logits', tokenLogits, DType.float, ['batch_size', 'sequence_length', labels.length]);
    return;
  }
  const cls = g.op('Gather', [h, g.constI([0], [])], { axis: 1 });
  const pooled = g.op('Tanh', [linear(g, cls, d.hidden, d.hidden, 'pooler')]);
  const logits = linear(g, pooled, d.hidden, labels.length, 'classifier');
  g.output('logits', logits, DType.float, ['batch_size', labels.length]);
}

/** config.json for BertModel / BertForSequenceClassification. */
export function bertConfig(d: BertDims, labels?: string[], perToken = false): Record<string, unknown> {
  return {
    model_type: 'bert',
    architectures: [labels ? (perToken ? 'BertForTokenClassification' : 'BertForSequenceClassification') : 'BertModel'],
    vocab_size: d.vocab,
    hidden_size: d.hidden,
    num_hidden_layers: d.layers,
    num_attention_heads: d.heads,
    intermediate_size: d.inter,
    max_position_embeddings: d.maxPos,
    type_vocab_size: 2,
    hidden_act: 'gelu',
    layer_norm_eps: BERT_EPS,
    pad_token_id: 0,
    ...(labels
      ? {
          id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
          label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
          ...(perToken ? {} : { problem_type: 'single_label_classification' }),
        }
      : {}),
  };
}
