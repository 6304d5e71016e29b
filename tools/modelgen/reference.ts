/**
 * @module reference
 * An independent forward pass in plain TypeScript (float64, no onnxruntime) for the generated
 * BERT, GPT-2, Llama/Qwen2, T5 and ViT-GPT-2 captioner graphs. It reads the same weights the generator wrote and follows the model
 * definitions directly, so agreement with onnxruntime shows the graphs compute what they claim.
 */
import type { Weight } from './onnx-builder.js';
import { MASKED_SCORE } from './layers.js';
import { BERT_EPS, type BertDims } from './archs/bert.js';
import { GPT2_EPS, type Gpt2Dims } from './archs/gpt2.js';
import type { LlamaDims, LlamaFlavor } from './archs/llama.js';
import { T5_EPS, relativeBucket, type T5Dims } from './archs/t5.js';
import { VIT_GPT2_ENC_EPS, type VitGpt2Dims } from './archs/vit-gpt2.js';

type Weights = Map<string, Weight>;

function w(ws: Weights, name: string): Float32Array {
  const t = ws.get(name);
  if (!t) throw new Error(`reference: missing weight ${name}`);
  return t.data;
}

/** erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** rows x inF times [inF, outF] (+ bias). */
function linear(ws: Weights, x: Float64Array, rows: number, inF: number, outF: number, prefix: string, bias = true): Float64Array {
  const W = w(ws, `${prefix}.weight`);
  const b = bias ? w(ws, `${prefix}.bias`) : null;
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i]! * W[i * outF + o]!;
      y[r * outF + o] = s;
    }
  }
  return y;
}

function layerNorm(ws: Weights, x: Float64Array, rows: number, dim: number, prefix: string, eps: number): Float64Array {
  const g = w(ws, `${prefix}.weight`);
  const b = w(ws, `${prefix}.bias`);
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[r * dim + i]!;
    mean /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (x[r * dim + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = (x[r * dim + i]! - mean) * inv * g[i]! + b[i]!;
  }
  return y;
}

/** Multi-head attention on [S,H] q and [T,H] k/v with an allow predicate. */
function attend(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  S: number,
  T: number,
  hidden: number,
  heads: number,
  allowed: (i: number, j: number) => boolean,
): Float64Array {
  const dH = hidden / heads;
  const out = new Float64Array(S * hidden);
  const scores = new Float64Array(T);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < S; i++) {
      let max = -Infinity;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let d = 0; d < dH; d++) s += q[i * hidden + h * dH + d]! * k[j * hidden + h * dH + d]!;
        s = allowed(i, j) ? s / Math.sqrt(dH) : MASKED_SCORE;
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < T; j++) sum += scores[j] = Math.exp(scores[j]! - max);
      for (let d = 0; d < dH; d++) {
        let acc = 0;
        for (let j = 0; j < T; j++) acc += scores[j]! * v[j * hidden + h * dH + d]!;
        out[i * hidden + h * dH + d] = acc / sum;
      }
    }
  }
  return out;
}

const add = (a: Float64Array, b: Float64Array): Float64Array => a.map((x, i) => x + b[i]!);

/** Part `k` of `parts` equal column blocks of a [rows, parts*H] matrix -> [rows, H] (a fused q/k/v split). */
function columns(m: Float64Array, rows: number, H: number, parts: number, k: number): Float64Array {
  const out = new Float64Array(rows * H);
  for (let r = 0; r < rows; r++) for (let i = 0; i < H; i++) out[r * H + i] = m[r * parts * H + k * H + i]!;
  return out;
}

/** [S,H] times the [H,V] matrix named `name` (an unbiased output head) -> [S,V]. */
function project(ws: Weights, x: Float64Array, S: number, H: number, V: number, name: string): Float64Array {
  const head = w(ws, name);
  const out = new Float64Array(S * V);
  for (let s = 0; s < S; s++) {
    for (let o = 0; o < V; o++) {
      let acc = 0;
      for (let i = 0; i < H; i++) acc += x[s * H + i]! * head[i * V + o]!;
      out[s * V + o] = acc;
    }
  }
  return out;
}

/** GPT-2's self-attention sublayer (`${p}.ln_1`, fused `c_attn`, `c_proj`) on [S,H] with `allowed`. */
function gpt2SelfAttentionRef(
  ws: Weights,
  x: Float64Array,
  S: number,
  H: number,
  heads: number,
  p: string,
  allowed: (i: number, j: number) => boolean,
) {
  const qkv = linear(ws, layerNorm(ws, x, S, H, `${p}.ln_1`, GPT2_EPS), S, H, 3 * H, `${p}.attn.c_attn`);
  const ctx = attend(columns(qkv, S, H, 3, 0), columns(qkv, S, H, 3, 1), columns(qkv, S, H, 3, 2), S, S, H, heads, allowed);
  return add(x, linear(ws, ctx, S, H, H, `${p}.attn.c_proj`));
}

/** BERT last_hidden_state for one sequence (ids and mask of equal length) -> [S*H]. */
export function bertReference(ws: Weights, d: BertDims, ids: number[], mask: number[], typeIds: number[] = ids.map(() => 0)): Float64Array {
  const S = ids.length;
  const H = d.hidden;
  const word = w(ws, 'embeddings.word');
  const pos = w(ws, 'embeddings.position');
  const typ = w(ws, 'embeddings.token_type');
  let x: Float64Array<ArrayBufferLike> = new Float64Array(S * H);
  for (let s = 0; s < S; s++) {
    for (let i = 0; i < H; i++) x[s * H + i] = word[ids[s]! * H + i]! + pos[s * H + i]! + typ[typeIds[s]! * H + i]!;
  }
  x = layerNorm(ws, x, S, H, 'embeddings.ln', BERT_EPS);
  for (let l = 0; l < d.layers; l++) {
    const p = `layer.${l}`;
    const q = linear(ws, x, S, H, H, `${p}.attn.q`);
    const k = linear(ws, x, S, H, H, `${p}.attn.k`);
    const v = linear(ws, x, S, H, H, `${p}.attn.v`);
    const ctx = attend(q, k, v, S, S, H, d.heads, (_i, j) => mask[j] === 1);
    x = layerNorm(ws, add(x, linear(ws, ctx, S, H, H, `${p}.attn.o`)), S, H, `${p}.ln1`, BERT_EPS);
    const f = linear(ws, linear(ws, x, S, H, d.inter, `${p}.mlp.fc1`).map(gelu), S, d.inter, H, `${p}.mlp.fc2`);
    x = layerNorm(ws, add(x, f), S, H, `${p}.ln2`, BERT_EPS);
  }
  return x;
}

/**
 * BertForSequenceClassification's logits for one sequence: the [CLS] state through the tanh
 * pooler and the classifier head -> [labels]. `typeIds` are the segment ids (1 for a pair's second text).
 */
export function bertClassifierReference(
  ws: Weights,
  d: BertDims,
  ids: number[],
  mask: number[],
  typeIds: number[],
  labels: number,
): Float64Array {
  const states = bertReference(ws, d, ids, mask, typeIds);
  const pooled = linear(ws, states.subarray(0, d.hidden), 1, d.hidden, d.hidden, 'pooler').map(Math.tanh);
  return linear(ws, pooled, 1, d.hidden, labels, 'classifier');
}

/** transformers.js position ids: cumulative sum of the mask minus one, 1 at padding. */
export function positionIds(mask: number[]): number[] {
  let sum = 0;
  return mask.map((m) => (m === 0 ? 1 : sum++));
}

/** GPT-2 logits for one full sequence, without a cache -> [S*V]. */
export function gpt2Reference(ws: Weights, d: Gpt2Dims, ids: number[], mask: number[]): Float64Array {
  const S = ids.length;
  const H = d.hidden;
  const wte = w(ws, 'wte');
  const wpe = w(ws, 'wpe');
  const pos = positionIds(mask);
  let x: Float64Array<ArrayBufferLike> = new Float64Array(S * H);
  for (let s = 0; s < S; s++) for (let i = 0; i < H; i++) x[s * H + i] = wte[ids[s]! * H + i]! + wpe[pos[s]! * H + i]!;
  for (let l = 0; l < d.layers; l++) {
    const p = `h.${l}`;
    x = gpt2SelfAttentionRef(ws, x, S, H, d.heads, p, (i, j) => j <= i && mask[j] === 1);
    const m = layerNorm(ws, x, S, H, `${p}.ln_2`, GPT2_EPS);
    x = add(x, linear(ws, linear(ws, m, S, H, 4 * H, `${p}.mlp.fc1`).map(gelu), S, 4 * H, H, `${p}.mlp.fc2`));
  }
  return project(ws, layerNorm(ws, x, S, H, 'ln_f', GPT2_EPS), S, H, d.vocab, 'lm_head');
}

/**
 * Greedy decoding by full recomputation (no KV cache): each step reruns the whole sequence.
 * `ids`/`mask` may be left-padded. Returns the new token ids.
 */
export function gpt2GreedyReference(ws: Weights, d: Gpt2Dims, ids: number[], mask: number[], steps: number, eos?: number): number[] {
  return greedy((seq, m) => gpt2Reference(ws, d, seq, m), d.vocab, ids, mask, steps, eos === undefined ? [] : [eos]);
}

/** Llama / Qwen2 logits for one full sequence, without a cache -> [S*V]. */
export function llamaReference(ws: Weights, d: LlamaDims, f: LlamaFlavor, ids: number[], mask: number[]): Float64Array {
  const S = ids.length;
  const H = d.hidden;
  const dH = H / d.heads;
  const kvDim = d.kvHeads * dH;
  const rep = d.heads / d.kvHeads;
  const embed = w(ws, 'embed_tokens');
  const pos = positionIds(mask);
  const rms = (x: Float64Array, prefix: string) => {
    const g = w(ws, `${prefix}.weight`);
    const y = new Float64Array(x.length);
    for (let s = 0; s < S; s++) {
      let ms = 0;
      for (let i = 0; i < H; i++) ms += x[s * H + i]! ** 2;
      const inv = 1 / Math.sqrt(ms / H + f.eps);
      for (let i = 0; i < H; i++) y[s * H + i] = x[s * H + i]! * inv * g[i]!;
    }
    return y;
  };
  // Rotary embedding, rotate-half form: pairs (i, i + dH/2) turn by pos * theta^(-2i/dH).
  const rotate = (x: Float64Array, nHeads: number) => {
    const width = nHeads * dH;
    const y = new Float64Array(x.length);
    for (let s = 0; s < S; s++) {
      for (let h = 0; h < nHeads; h++) {
        for (let i = 0; i < dH / 2; i++) {
          const angle = pos[s]! * f.ropeTheta ** (-(2 * i) / dH);
          const a = x[s * width + h * dH + i]!;
          const b = x[s * width + h * dH + i + dH / 2]!;
          y[s * width + h * dH + i] = a * Math.cos(angle) - b * Math.sin(angle);
          y[s * width + h * dH + i + dH / 2] = b * Math.cos(angle) + a * Math.sin(angle);
        }
      }
    }
    return y;
  };
  let x: Float64Array<ArrayBufferLike> = new Float64Array(S * H);
  for (let s = 0; s < S; s++) for (let i = 0; i < H; i++) x[s * H + i] = embed[ids[s]! * H + i]!;
  for (let l = 0; l < d.layers; l++) {
    const p = `layers.${l}`;
    const a = rms(x, `${p}.input_layernorm`);
    const q = rotate(linear(ws, a, S, H, H, `${p}.self_attn.q_proj`, f.qkvBias), d.heads);
    const k = rotate(linear(ws, a, S, H, kvDim, `${p}.self_attn.k_proj`, f.qkvBias), d.kvHeads);
    const v = linear(ws, a, S, H, kvDim, `${p}.self_attn.v_proj`, f.qkvBias);
    // Grouped-query attention: query head h reads key/value head floor(h / rep).
    const ctx = new Float64Array(S * H);
    const scores = new Float64Array(S);
    for (let h = 0; h < d.heads; h++) {
      const kv = Math.floor(h / rep) * dH;
      for (let i = 0; i < S; i++) {
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          let sc = 0;
          for (let e = 0; e < dH; e++) sc += q[i * H + h * dH + e]! * k[j * kvDim + kv + e]!;
          sc = j <= i && mask[j] === 1 ? sc / Math.sqrt(dH) : MASKED_SCORE;
          scores[j] = sc;
          if (sc > max) max = sc;
        }
        let sum = 0;
        for (let j = 0; j < S; j++) sum += scores[j] = Math.exp(scores[j]! - max);
        for (let e = 0; e < dH; e++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += scores[j]! * v[j * kvDim + kv + e]!;
          ctx[i * H + h * dH + e] = acc / sum;
        }
      }
    }
    x = add(x, linear(ws, ctx, S, H, H, `${p}.self_attn.o_proj`, false));
    const m = rms(x, `${p}.post_attention_layernorm`);
    const gate = linear(ws, m, S, H, d.inter, `${p}.mlp.gate_proj`, false);
    const up = linear(ws, m, S, H, d.inter, `${p}.mlp.up_proj`, false);
    const act = gate.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]!);
    x = add(x, linear(ws, act, S, d.inter, H, `${p}.mlp.down_proj`, false));
  }
  x = rms(x, 'norm');
  const logits = new Float64Array(S * d.vocab);
  const head = f.tied ? undefined : w(ws, 'lm_head');
  for (let s = 0; s < S; s++) {
    for (let o = 0; o < d.vocab; o++) {
      let acc = 0;
      if (head) for (let i = 0; i < H; i++) acc += x[s * H + i]! * head[i * d.vocab + o]!;
      else for (let i = 0; i < H; i++) acc += x[s * H + i]! * embed[o * H + i]!;
      logits[s * d.vocab + o] = acc;
    }
  }
  return logits;
}

/** Greedy Llama / Qwen2 decoding by full recomputation; stops at any of `eos`. */
export function llamaGreedyReference(
  ws: Weights,
  d: LlamaDims,
  f: LlamaFlavor,
  ids: number[],
  mask: number[],
  steps: number,
  eos: number[] = [],
): number[] {
  return greedy((seq, m) => llamaReference(ws, d, f, seq, m), d.vocab, ids, mask, steps, eos);
}

/** Greedy decoding with a full forward pass per step. */
function greedy(
  forward: (ids: number[], mask: number[]) => Float64Array,
  vocab: number,
  ids: number[],
  mask: number[],
  steps: number,
  eos: number[],
): number[] {
  const seq = [...ids];
  const m = [...mask];
  const out: number[] = [];
  for (let t = 0; t < steps; t++) {
    const logits = forward(seq, m);
    const d = { vocab };
    const last = logits.subarray((seq.length - 1) * d.vocab, seq.length * d.vocab);
    let best = 0;
    for (let i = 1; i < d.vocab; i++) if (last[i]! > last[best]!) best = i;
    out.push(best);
    if (eos.includes(best)) break;
    seq.push(best);
    m.push(1);
  }
  return out;
}

/** T5 pieces shared by the encoder and decoder references. */
const t5 = {
  norm(ws: Weights, x: Float64Array, rows: number, dim: number, prefix: string): Float64Array {
    const g = w(ws, `${prefix}.weight`);
    const y = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      let ms = 0;
      for (let i = 0; i < dim; i++) ms += x[r * dim + i]! ** 2;
      const inv = 1 / Math.sqrt(ms / dim + T5_EPS);
      for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i]! * inv * g[i]!;
    }
    return y;
  },
  /** Unscaled attention of [S,inner] queries over [T,inner] keys/values, plus bias(h,i,j), where allowed(i,j). */
  attend(
    q: Float64Array,
    k: Float64Array,
    v: Float64Array,
    S: number,
    T: number,
    d: T5Dims,
    bias: (h: number, i: number, j: number) => number,
    allowed: (i: number, j: number) => boolean,
  ): Float64Array {
    const inner = d.heads * d.dKv;
    const out = new Float64Array(S * inner);
    const sc = new Float64Array(T);
    for (let h = 0; h < d.heads; h++) {
      for (let i = 0; i < S; i++) {
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let e = 0; e < d.dKv; e++) s += q[i * inner + h * d.dKv + e]! * k[j * inner + h * d.dKv + e]!;
          s = allowed(i, j) ? s + bias(h, i, j) : MASKED_SCORE;
          sc[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j < T; j++) sum += sc[j] = Math.exp(sc[j]! - max);
        for (let e = 0; e < d.dKv; e++) {
          let acc = 0;
          for (let j = 0; j < T; j++) acc += sc[j]! * v[j * inner + h * d.dKv + e]!;
          out[i * inner + h * d.dKv + e] = acc / sum;
        }
      }
    }
    return out;
  },
  ff(ws: Weights, x: Float64Array, rows: number, d: T5Dims, prefix: string): Float64Array {
    const geluNew = (a: number) => 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a ** 3)));
    const a = linear(ws, x, rows, d.hidden, d.ff, `${prefix}.wi_0`, false).map(geluNew);
    const b = linear(ws, x, rows, d.hidden, d.ff, `${prefix}.wi_1`, false);
    return linear(
      ws,
      a.map((v, i) => v * b[i]!),
      rows,
      d.ff,
      d.hidden,
      `${prefix}.wo`,
      false,
    );
  },
};

/** T5 encoder states for one sequence -> [S*hidden]. */
export function t5EncoderReference(ws: Weights, d: T5Dims, ids: number[], mask: number[]): Float64Array {
  const S = ids.length;
  const H = d.hidden;
  const inner = d.heads * d.dKv;
  const shared = w(ws, 'shared');
  const table = w(ws, 'encoder.relative_attention_bias');
  let x: Float64Array<ArrayBufferLike> = new Float64Array(S * H);
  for (let s = 0; s < S; s++) for (let i = 0; i < H; i++) x[s * H + i] = shared[ids[s]! * H + i]!;
  const bias = (h: number, i: number, j: number) => table[relativeBucket(j - i, true) * d.heads + h]!;
  for (let l = 0; l < d.layers; l++) {
    const p = `encoder.block.${l}`;
    const a = t5.norm(ws, x, S, H, `${p}.ln_attn`);
    const q = linear(ws, a, S, H, inner, `${p}.attn.q`, false);
    const k = linear(ws, a, S, H, inner, `${p}.attn.k`, false);
    const v = linear(ws, a, S, H, inner, `${p}.attn.v`, false);
    const ctx = t5.attend(q, k, v, S, S, d, bias, (_i, j) => mask[j] === 1);
    x = add(x, linear(ws, ctx, S, inner, H, `${p}.attn.o`, false));
    x = add(x, t5.ff(ws, t5.norm(ws, x, S, H, `${p}.ln_ff`), S, d, `${p}.ff`));
  }
  return t5.norm(ws, x, S, H, 'encoder.final_layer_norm');
}

/** T5 decoder logits for a full decoder sequence (no cache) over encoder states -> [S*V]. */
export function t5DecoderReference(ws: Weights, d: T5Dims, enc: Float64Array, encMask: number[], ids: number[]): Float64Array {
  const S = ids.length;
  const T = encMask.length;
  const H = d.hidden;
  const inner = d.heads * d.dKv;
  const shared = w(ws, 'shared');
  const table = w(ws, 'decoder.relative_attention_bias');
  let x: Float64Array<ArrayBufferLike> = new Float64Array(S * H);
  for (let s = 0; s < S; s++) for (let i = 0; i < H; i++) x[s * H + i] = shared[ids[s]! * H + i]!;
  const selfBias = (h: number, i: number, j: number) => table[relativeBucket(j - i, false) * d.heads + h]!;
  for (let l = 0; l < d.decLayers; l++) {
    const p = `decoder.block.${l}`;
    const a = t5.norm(ws, x, S, H, `${p}.ln_self`);
    const q = linear(ws, a, S, H, inner, `${p}.self.q`, false);
    const k = linear(ws, a, S, H, inner, `${p}.self.k`, false);
    const v = linear(ws, a, S, H, inner, `${p}.self.v`, false);
    x = add(
      x,
      linear(
        ws,
        t5.attend(q, k, v, S, S, d, selfBias, (i, j) => j <= i),
        S,
        inner,
        H,
        `${p}.self.o`,
        false,
      ),
    );
    const c = t5.norm(ws, x, S, H, `${p}.ln_cross`);
    const cq = linear(ws, c, S, H, inner, `${p}.cross.q`, false);
    const ck = linear(ws, enc, T, H, inner, `${p}.cross.k`, false);
    const cv = linear(ws, enc, T, H, inner, `${p}.cross.v`, false);
    x = add(
      x,
      linear(
        ws,
        t5.attend(
          cq,
          ck,
          cv,
          S,
          T,
          d,
          () => 0,
          (_i, j) => encMask[j] === 1,
        ),
        S,
        inner,
        H,
        `${p}.cross.o`,
        false,
      ),
    );
    x = add(x, t5.ff(ws, t5.norm(ws, x, S, H, `${p}.ln_ff`), S, d, `${p}.ff`));
  }
  x = t5.norm(ws, x, S, H, 'decoder.final_layer_norm');
  return linear(ws, x, S, H, d.vocab, 'lm_head', false);
}

/** Greedy T5 decoding from the decoder start token (0) until `</s>` (1) or `steps` tokens. */
export function t5GreedyReference(encWs: Weights, decWs: Weights, d: T5Dims, ids: number[], mask: number[], steps: number): number[] {
  const enc = t5EncoderReference(encWs, d, ids, mask);
  return greedy((seq) => t5DecoderReference(decWs, d, enc, mask, seq), d.vocab, [0], [1], steps, [1]);
}

/** Pre-LN layers with full attention (ViT) on [S*H]: `${prefix}.layer.{i}` weights. */
function preLnStack(
  ws: Weights,
  x0: Float64Array,
  S: number,
  H: number,
  heads: number,
  inter: number,
  layers: number,
  prefix: string,
  eps: number,
) {
  let x = x0;
  for (let l = 0; l < layers; l++) {
    const p = `${prefix}.layer.${l}`;
    const a = layerNorm(ws, x, S, H, `${p}.ln1`, eps);
    const ctx = attend(
      linear(ws, a, S, H, H, `${p}.attn.q`),
      linear(ws, a, S, H, H, `${p}.attn.k`),
      linear(ws, a, S, H, H, `${p}.attn.v`),
      S,
      S,
      H,
      heads,
      () => true,
    );
    x = add(x, linear(ws, ctx, S, H, H, `${p}.attn.o`));
    const m = layerNorm(ws, x, S, H, `${p}.ln2`, eps);
    x = add(x, linear(ws, linear(ws, m, S, H, inter, `${p}.mlp.fc1`).map(gelu), S, inter, H, `${p}.mlp.fc2`));
  }
  return x;
}

/** The captioner's encoder states for one image (normalised pixels, [3,S,S]) -> [(1 + patches) * H]. */
export function captionEncoderReference(ws: Weights, d: VitGpt2Dims, pixels: Float64Array): Float64Array {
  const H = d.hidden;
  const n = d.image / d.patch;
  const T = n * n + 1;
  const conv = w(ws, 'encoder.embeddings.patch.weight');
  const convB = w(ws, 'encoder.embeddings.patch.bias');
  const cls = w(ws, 'encoder.embeddings.cls');
  const pos = w(ws, 'encoder.embeddings.position');
  const x = new Float64Array(T * H);
  for (let i = 0; i < H; i++) x[i] = cls[i]! + pos[i]!;
  for (let py = 0; py < n; py++) {
    for (let px = 0; px < n; px++) {
      const t = 1 + py * n + px;
      for (let o = 0; o < H; o++) {
        let s = convB[o]!;
        for (let c = 0; c < 3; c++) {
          for (let ky = 0; ky < d.patch; ky++) {
            for (let kx = 0; kx < d.patch; kx++) {
              const pix = pixels[c * d.image * d.image + (py * d.patch + ky) * d.image + px * d.patch + kx]!;
              s += pix * conv[((o * 3 + c) * d.patch + ky) * d.patch + kx]!;
            }
          }
        }
        x[t * H + o] = s + pos[t * H + o]!;
      }
    }
  }
  const h = preLnStack(ws, x, T, H, d.heads, d.inter, d.encLayers, 'encoder', VIT_GPT2_ENC_EPS);
  return layerNorm(ws, h, T, H, 'encoder.ln', VIT_GPT2_ENC_EPS);
}

/** The captioner's decoder logits for a full sequence over encoder states `enc` ([T*H]) -> [S*V]. */
export function captionDecoderReference(ws: Weights, d: VitGpt2Dims, enc: Float64Array, ids: number[]): Float64Array {
  const S = ids.length;
  const H = d.hidden;
  const T = enc.length / H;
  const wte = w(ws, 'decoder.wte');
  const wpe = w(ws, 'decoder.wpe');
  let x: Float64Array<ArrayBufferLike> = new Float64Array(S * H);
  for (let s = 0; s < S; s++) for (let i = 0; i < H; i++) x[s * H + i] = wte[ids[s]! * H + i]! + wpe[s * H + i]!;
  for (let l = 0; l < d.decLayers; l++) {
    const p = `decoder.h.${l}`;
    x = gpt2SelfAttentionRef(ws, x, S, H, d.heads, p, (i, j) => j <= i);
    const q = linear(ws, layerNorm(ws, x, S, H, `${p}.ln_cross_attn`, GPT2_EPS), S, H, H, `${p}.crossattention.q_attn`);
    const kv = linear(ws, enc, T, H, 2 * H, `${p}.crossattention.c_attn`);
    const cross = attend(q, columns(kv, T, H, 2, 0), columns(kv, T, H, 2, 1), S, T, H, d.heads, () => true);
    x = add(x, linear(ws, cross, S, H, H, `${p}.crossattention.c_proj`));
    const m = layerNorm(ws, x, S, H, `${p}.ln_2`, GPT2_EPS);
    x = add(x, linear(ws, linear(ws, m, S, H, 4 * H, `${p}.mlp.fc1`).map(gelu), S, 4 * H, H, `${p}.mlp.fc2`));
  }
  return project(ws, layerNorm(ws, x, S, H, 'decoder.ln_f', GPT2_EPS), S, H, d.vocab, 'decoder.lm_head');
}

/** Greedy caption token ids (without the start token) by full recomputation. */
export function captionGreedyReference(
  encWs: Weights,
  decWs: Weights,
  d: VitGpt2Dims,
  pixels: Float64Array,
  start: number,
  steps: number,
  eos: number,
): number[] {
  const enc = captionEncoderReference(encWs, d, pixels);
  return greedy((seq) => captionDecoderReference(decWs, d, enc, seq), d.vocab, [start], [1], steps, [eos]);
}
