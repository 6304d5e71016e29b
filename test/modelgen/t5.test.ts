/**
 * The generated T5 (FLAN-T5 variant: RMS layer norm, unscaled attention with bucketed relative
 * position bias, gated-GELU, merged decoder with a KV cache), tiny and at FLAN-T5-small's widths,
 * against the float64 reference: encoder states and decoder logits within 1e-4 (float32 against
 * float64 arithmetic), the cached decoder step equal to recomputation, and greedy generation
 * through transformers.js equal to the reference decode.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { AutoModelForSeq2SeqLM, AutoTokenizer } from '@huggingface/transformers';
import { join } from 'node:path';
import { CPU } from '../helpers/offline.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { makeModel } from '../../tools/modelgen/index.js';
import { relativeBucket, type T5Dims } from '../../tools/modelgen/archs/t5.js';
import { t5DecoderReference, t5EncoderReference, t5GreedyReference } from '../../tools/modelgen/reference.js';

const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('relative position buckets', () => {
  it('follow T5: exact near zero, logarithmic beyond, capped; bidirectional splits by sign', () => {
    expect([0, 1, 7, -1, -7].map((r) => relativeBucket(r, true))).toEqual([0, 17, 23, 1, 7]);
    expect(relativeBucket(8, true)).toBe(24);
    expect(relativeBucket(1000, true)).toBe(31);
    expect(relativeBucket(-1000, true)).toBe(15);
    expect([0, -1, -15, 5].map((r) => relativeBucket(r, false))).toEqual([0, 1, 15, 0]);
    expect(relativeBucket(-16, false)).toBe(16);
    expect(relativeBucket(-1000, false)).toBe(31);
  });
});

for (const size of ['tiny', 'flan-t5-small'] as const) {
  describe(`t5 ${size}`, () => {
    const made = makeModel({ arch: 't5', size });
    const d = made.dims as T5Dims;
    const dir = () => ensureModel({ arch: 't5', size });
    const encW = made.weights.encoder_model!;
    const decW = made.weights.decoder_model_merged!;

    it('encoder states and decoder logits (first step and cached step) equal the reference within 1e-4', async () => {
      expect(made.config).toMatchObject({ model_type: 't5', feed_forward_proj: 'gated-gelu', d_kv: d.dKv, num_heads: d.heads });
      const ids = [
        [40, 41, 42, 43, 44, 1],
        [50, 51, 52, 1, 0, 0],
      ];
      const mask = [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0],
      ];
      const enc = await ort.InferenceSession.create(join(dir(), 'onnx/encoder_model.onnx'));
      const states = (await enc.run({ input_ids: i64(ids), attention_mask: i64(mask) })).last_hidden_state!;
      const refs = ids.map((row, b) => t5EncoderReference(encW, d, row, mask[b]!));
      const S = ids[0]!.length;
      for (let b = 0; b < 2; b++) {
        const valid = mask[b]!.filter(Boolean).length * d.hidden;
        expect(
          maxAbsDiff((states.data as Float32Array).subarray(b * S * d.hidden, b * S * d.hidden + valid), refs[b]!.subarray(0, valid)),
        ).toBeLessThan(1e-4);
      }
      const dec = await ort.InferenceSession.create(join(dir(), 'onnx/decoder_model_merged.onnx'));
      const inner = d.dKv;
      const empty = (T: number) => new ort.Tensor('float32', new Float32Array(0), [2, d.heads, T, inner]);
      const feeds: Record<string, ort.Tensor> = {
        encoder_attention_mask: i64(mask),
        input_ids: i64([
          [0, 7, 9],
          [0, 11, 13],
        ]),
        encoder_hidden_states: states,
        use_cache_branch: new ort.Tensor('bool', [false], [1]),
      };
      for (let l = 0; l < d.decLayers; l++) {
        for (const kv of ['key', 'value']) {
          feeds[`past_key_values.${l}.decoder.${kv}`] = empty(0);
          feeds[`past_key_values.${l}.encoder.${kv}`] = empty(0);
        }
      }
      const first = await dec.run(feeds);
      const logits = first.logits!.data as Float32Array;
      const full = [
        [0, 7, 9, 21],
        [0, 11, 13, 23],
      ];
      for (let b = 0; b < 2; b++) {
        const ref = t5DecoderReference(decW, d, refs[b]!, mask[b]!, full[b]!);
        expect(maxAbsDiff(logits.subarray(b * 3 * d.vocab, (b + 1) * 3 * d.vocab), ref.subarray(0, 3 * d.vocab))).toBeLessThan(1e-4);
      }
      // One more token through the cache equals the last row of full recomputation.
      const step: Record<string, ort.Tensor> = {
        ...feeds,
        input_ids: i64([[21], [23]]),
        use_cache_branch: new ort.Tensor('bool', [true], [1]),
      };
      for (let l = 0; l < d.decLayers; l++) {
        for (const kv of ['key', 'value']) {
          step[`past_key_values.${l}.decoder.${kv}`] = first[`present.${l}.decoder.${kv}`]!;
          step[`past_key_values.${l}.encoder.${kv}`] = first[`present.${l}.encoder.${kv}`]!;
        }
      }
      const next = (await dec.run(step)).logits!.data as Float32Array;
      for (let b = 0; b < 2; b++) {
        const ref = t5DecoderReference(decW, d, refs[b]!, mask[b]!, full[b]!);
        expect(maxAbsDiff(next.subarray(b * d.vocab, (b + 1) * d.vocab), ref.subarray(3 * d.vocab))).toBeLessThan(1e-4);
      }
      await enc.release();
      await dec.release();
    }, 300_000);

    it('greedy generation through transformers.js equals the reference decode', async () => {
      const tok = await AutoTokenizer.from_pretrained(dir());
      const text = 'Translate to German: the weather is nice today.';
      const ids = tok.encode(text);
      expect(ids.at(-1)).toBe(1); // </s> appended
      expect(tok.decode(ids, { skip_special_tokens: true })).toBe(text);
      const model = await AutoModelForSeq2SeqLM.from_pretrained(dir(), CPU);
      const out = (await model.generate({ ...tok(text), max_new_tokens: 8, do_sample: false })) as { tolist(): bigint[][] };
      const got = out.tolist()[0]!.map(Number).slice(1); // after the decoder start token
      const want = t5GreedyReference(
        encW,
        decW,
        d,
        ids,
        ids.map(() => 1),
        8,
      );
      expect(got.slice(0, want.length)).toEqual(want);
      await model.dispose();
    }, 300_000);
  });
}
