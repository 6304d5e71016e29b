/**
 * The generated Llama-family decoders (rotary positions, grouped-query attention, RMSNorm,
 * SwiGLU; Qwen2 adds q/k/v biases and a tied head), tiny and at Qwen2.5-0.5B's and
 * TinyLlama-1.1B's widths, against the
 * float64 reference forward pass; and its quantized variants against both the reference (on the
 * weights the variant holds) and the float32 graph.
 *
 * Tolerances:
 * - fp32: logits within 1e-4 of the reference (float32 against float64 arithmetic).
 * - q4 and q8 hold rounded weights. Run on those weights (dequantized), the reference must match
 *   the variant within 1e-4 of the largest logit for q4, which computes in float32 on the rounded
 *   weights: this checks the kernel and the packing. q8 also rounds each activation to 8 bits per
 *   tensor, so it is bounded like the next check instead.
 * - fp16 rounds every tensor to 11 significant bits (relative RMS error 2^-11/sqrt(3) per
 *   rounding); its logits must stay under twice that times the square root of the roundings a
 *   value passes in series (about 26 per layer).
 * - Against fp32, the relative RMS error of the logits must stay under 2·ε·sqrt(m): ε is the
 *   relative RMS error the rounding put into the weights (measured here; for q8 combined with
 *   the 8-bit activation step, about 1% of an activation's RMS after RMSNorm), and m = 4 per
 *   layer is the number of quantized matrix products a value passes in series (q/k/v, o,
 *   gate/up, down). Independent errors of that size add up to about ε·sqrt(m); the factor 2 is
 *   headroom for their correlation.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers';
import { join } from 'node:path';
import { CPU } from '../helpers/offline.js';
import { fixture, FIXTURES } from '../helpers/fixtures.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { makeModel } from '../../tools/modelgen/index.js';
import { LLAMA, QWEN2, type LlamaDims, type LlamaFlavor } from '../../tools/modelgen/archs/llama.js';
import { VARIANT_FILES } from '../../tools/modelgen/archs/index.js';
import { fromHalf } from '../../tools/modelgen/quantize.js';
import { llamaGreedyReference, llamaReference, positionIds } from '../../tools/modelgen/reference.js';

const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const maxAbs = (a: ArrayLike<number>) => maxAbsDiff(a, new Float64Array(a.length));

/** Logits of one ONNX file of `dir` for left-padded rows (empty cache). */
async function logitsOf(dir: string, file: string, d: LlamaDims, ids: number[][], mask: number[][]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(join(dir, 'onnx', `${file}.onnx`));
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(mask.map(positionIds)) };
  const dH = d.hidden / d.heads;
  const half = file === VARIANT_FILES.fp16; // half precision in and out, the KV cache included
  for (let l = 0; l < d.layers; l++)
    for (const kv of ['key', 'value'])
      feeds[`past_key_values.${l}.${kv}`] = half
        ? new ort.Tensor('float16', new Uint16Array(0), [ids.length, d.kvHeads, 0, dH])
        : new ort.Tensor('float32', new Float32Array(0), [ids.length, d.kvHeads, 0, dH]);
  const out = await s.run(feeds);
  expect(out['present.0.key']!.dims).toEqual([ids.length, d.kvHeads, ids[0]!.length, dH]);
  expect(out.logits!.type).toBe(half ? 'float16' : 'float32');
  await s.release();
  const data = out.logits!.data as Float32Array | Uint16Array;
  return data instanceof Uint16Array ? Float32Array.from(data, fromHalf) : (data as Float32Array);
}

/** Relative RMS difference of `a` from `b`. */
function relRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** Relative RMS error the rounding put into the quantized weights of a variant. */
function weightError(made: ReturnType<typeof makeModel>, file: string): number {
  let num = 0;
  let den = 0;
  for (const [name, w] of made.weights[file]!) {
    const orig = made.weights.model!.get(name)!;
    if (orig.data === w.data) continue;
    for (let i = 0; i < w.data.length; i++) {
      num += (w.data[i]! - orig.data[i]!) ** 2;
      den += orig.data[i]! ** 2;
    }
  }
  return Math.sqrt(num / den);
}

/** Relative RMS error of rounding to half precision: a unit in the last place (2^-11) over sqrt(3). */
const HALF_EPS = 2 ** -11 / Math.sqrt(3);
/** Roundings a value passes in series per layer: norms (5 ops each), rotary (4), scores, softmax, context, projections (4), SwiGLU (3), residuals (2). */
const HALF_OPS_PER_LAYER = 2 * 5 + 4 + 3 + 4 + 3 + 2;

/** The 8-bit activation step's error relative to an activation's RMS (uint8 over about 9 RMS of range, step/sqrt(12)). */
const ACTIVATION_EPS = 9 / 255 / Math.sqrt(12);

const CASES: Array<{ arch: 'qwen2' | 'llama'; size: string; flavor: LlamaFlavor }> = [
  { arch: 'qwen2', size: 'tiny', flavor: QWEN2 },
  { arch: 'qwen2', size: 'qwen2.5-0.5b', flavor: QWEN2 },
  { arch: 'llama', size: 'tiny', flavor: LLAMA },
  { arch: 'llama', size: 'tinyllama-1.1b', flavor: LLAMA },
];

for (const { arch, size, flavor } of CASES) {
  describe(`${arch} ${size}`, () => {
    const spec = { arch, size };
    const made = makeModel(spec);
    const d = made.dims as LlamaDims;
    const dir = () => ensureModel(spec);
    const ids = [
      [0, 0, 300, 41, 77, 5],
      [12, 200, 300, 41, 77, 9],
    ];
    const mask = [
      [0, 0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ];
    const row = (logits: ArrayLike<number>, b: number) => {
      const start = mask[b]!.indexOf(1);
      const per = ids[0]!.length * d.vocab;
      return Array.prototype.slice.call(logits, b * per + start * d.vocab, (b + 1) * per) as number[];
    };

    it('fp32 logits equal the reference within 1e-4 (left-padded batch, grouped-query attention)', async () => {
      expect(d.kvHeads).toBeLessThan(d.heads);
      expect(made.config).toMatchObject({ model_type: arch, num_key_value_heads: d.kvHeads, tie_word_embeddings: flavor.tied });
      const logits = await logitsOf(dir(), 'model', d, ids, mask);
      for (let b = 0; b < 2; b++) {
        const ref = llamaReference(made.weights.model!, d, flavor, ids[b]!, mask[b]!);
        expect(maxAbsDiff(row(logits, b), ref.subarray(mask[b]!.indexOf(1) * d.vocab))).toBeLessThan(1e-4);
      }
    }, 300_000);

    // Checked on the tiny sizes only: onnxruntime's CPU kernels for half precision are slow
    // reference code (fp16 is the GPU dtype), minutes per pass at the real-shaped widths.
    it.skipIf(size !== 'tiny')(
      'fp16 (half precision throughout) stays within its stated tolerance',
      async () => {
        const fp = await logitsOf(dir(), 'model', d, ids, mask);
        const half = await logitsOf(dir(), VARIANT_FILES.fp16, d, ids, mask);
        const err = relRms(half, fp);
        // Every tensor is rounded to 11 significant bits, at each of the ops a value passes in series.
        expect(err, `fp16 relative error ${err.toExponential(2)}`).toBeLessThan(2 * HALF_EPS * Math.sqrt(HALF_OPS_PER_LAYER * d.layers));
        expect(err).toBeGreaterThan(0);
      },
      120_000,
    );

    it('q4 (MatMulNBits) and q8 (MatMulInteger) stay within their stated tolerances', async () => {
      const fp = await logitsOf(dir(), 'model', d, ids, mask);
      const m = 4 * d.layers;
      for (const kind of ['q4', 'q8'] as const) {
        const file = VARIANT_FILES[kind];
        const q = await logitsOf(dir(), file, d, ids, mask);
        if (kind === 'q4') {
          const ref = llamaReference(made.weights[file]!, d, flavor, ids[1]!, mask[1]!);
          expect(maxAbsDiff(row(q, 1), ref), 'q4 against the reference on its own weights').toBeLessThan(1e-4 * Math.max(1, maxAbs(ref)));
        }
        const eps = kind === 'q4' ? weightError(made, file) : Math.hypot(weightError(made, file), ACTIVATION_EPS);
        const err = relRms(q, fp);
        expect(err, `${kind}: relative error ${err.toFixed(4)}, weight error ${eps.toFixed(4)}`).toBeLessThan(2 * eps * Math.sqrt(m));
        expect(err).toBeGreaterThan(0); // the variant really holds rounded weights
      }
    }, 300_000);
  });
}

describe('llama tiny through transformers.js', () => {
  it('the SentencePiece tokenizer round-trips with byte fallback, the Zephyr template renders, and greedy generation equals recomputation', async () => {
    const made = makeModel({ arch: 'llama' });
    const d = made.dims as LlamaDims;
    const dir = ensureModel({ arch: 'llama' });
    const tok = await AutoTokenizer.from_pretrained(dir);
    const sample = 'Hello there, 12 Ωmega!';
    const ids = tok.encode(sample);
    expect(ids[0]).toBe(1); // <s>
    expect(ids.some((t) => t >= 3 && t < 259)).toBe(true); // Ω falls back to its UTF-8 bytes
    expect(tok.decode(ids, { skip_special_tokens: true })).toBe(sample);
    const text = tok.apply_chat_template([{ role: 'user', content: 'Hello there' }], {
      tokenize: false,
      add_generation_prompt: true,
    }) as string;
    expect(text).toContain('<|user|>\nHello there</s>');
    expect(text.trimEnd().endsWith('<|assistant|>')).toBe(true);
    const promptIds = tok.encode(text, { add_special_tokens: false });
    const model = await AutoModelForCausalLM.from_pretrained(dir, CPU);
    const enc = tok(text, { add_special_tokens: false });
    const out = (await model.generate({ ...enc, max_new_tokens: 10, do_sample: false })) as { tolist(): bigint[][] };
    const got = out.tolist()[0]!.map(Number).slice(promptIds.length);
    expect(got).toEqual(
      llamaGreedyReference(
        made.weights.model!,
        d,
        LLAMA,
        promptIds,
        promptIds.map(() => 1),
        10,
        [2],
      ),
    );
    await model.dispose();
  }, 300_000);
});

describe('qwen2 tiny through transformers.js', () => {
  it('the chat template renders Qwen2.5 turns, and greedy generation with the cache equals recomputation', async () => {
    const made = makeModel(FIXTURES.qwen2);
    const d = made.dims as LlamaDims;
    const dir = fixture('qwen2');
    const tok = await AutoTokenizer.from_pretrained(dir);
    const text = tok.apply_chat_template([{ role: 'user', content: 'Hello there' }], { tokenize: false, add_generation_prompt: true });
    expect(text).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n',
    );
    const enc = tok(text as string, { add_special_tokens: false });
    const promptIds = Array.from(enc.input_ids.data as BigInt64Array, Number);
    expect(promptIds.filter((t) => t === d.vocab - 2)).toHaveLength(3); // <|im_start|> is one token
    const model = await AutoModelForCausalLM.from_pretrained(dir, CPU);
    const steps = 10;
    const out = (await model.generate({ ...enc, max_new_tokens: steps, do_sample: false })) as { tolist(): bigint[][] };
    const got = out.tolist()[0]!.map(Number).slice(promptIds.length);
    const eos = [d.vocab - 1, d.vocab - 3];
    expect(got).toEqual(
      llamaGreedyReference(
        made.weights.model!,
        d,
        QWEN2,
        promptIds,
        promptIds.map(() => 1),
        steps,
        eos,
      ),
    );
    await model.dispose();
  }, 300_000);
});
