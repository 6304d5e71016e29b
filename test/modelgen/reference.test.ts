/**
 * The generated graphs compute what they claim: onnxruntime outputs equal an independent plain
 * TypeScript forward pass, padding does not leak, and KV-cache decoding equals recomputation.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers';
import { join } from 'node:path';
import { CPU } from '../helpers/offline.js';
import { fixture, FIXTURES } from '../helpers/fixtures.js';
import { makeModel } from '../../tools/modelgen/index.js';
import { bertClassifierReference, bertReference, gpt2GreedyReference, gpt2Reference, positionIds } from '../../tools/modelgen/reference.js';
import type { BertDims } from '../../tools/modelgen/archs/bert.js';
import type { Gpt2Dims } from '../../tools/modelgen/archs/gpt2.js';

const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('tiny bert', () => {
  const made = makeModel(FIXTURES.bert);
  const dims = made.dims as BertDims;
  const weights = made.weights.model!;

  it('ORT last_hidden_state equals the reference within 1e-4', async () => {
    const s = await ort.InferenceSession.create(join(fixture('bert'), 'onnx/model.onnx'));
    const ids = [
      [101, 500, 731, 299, 102],
      [101, 640, 102, 0, 0],
    ];
    const mask = [
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ];
    const out = await s.run({ input_ids: i64(ids), attention_mask: i64(mask), token_type_ids: i64(ids.map((r) => r.map(() => 0))) });
    const hs = out.last_hidden_state!.data as Float32Array;
    const per = 5 * dims.hidden;
    for (let b = 0; b < 2; b++) {
      const ref = bertReference(weights, dims, ids[b]!, mask[b]!);
      // Padded rows are not compared: their values are defined by the mask only for real tokens.
      const n = mask[b]!.filter((m) => m === 1).length * dims.hidden;
      expect(maxAbsDiff(hs.subarray(b * per, b * per + n), ref.subarray(0, n))).toBeLessThan(1e-4);
    }
    await s.release();
  });

  it('a padded sentence in a batch gives the same vector as the sentence alone', async () => {
    const s = await ort.InferenceSession.create(join(fixture('bert'), 'onnx/model.onnx'));
    const alone = await s.run({ input_ids: i64([[101, 640, 102]]), attention_mask: i64([[1, 1, 1]]), token_type_ids: i64([[0, 0, 0]]) });
    const batch = await s.run({
      input_ids: i64([
        [101, 500, 731, 299, 102],
        [101, 640, 102, 0, 0],
      ]),
      attention_mask: i64([
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ]),
      token_type_ids: i64([
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
      ]),
    });
    const a = alone.last_hidden_state!.data as Float32Array;
    const b = (batch.last_hidden_state!.data as Float32Array).subarray(5 * dims.hidden, 5 * dims.hidden + 3 * dims.hidden);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    await s.release();
  });
});

describe.each([
  ['cross-encoder (one logit)', 'crossEncoder', 1],
  ['NLI (three labels)', 'nli', 3],
] as const)('tiny bert %s', (_name, key, labels) => {
  it('ORT logits of text pairs (segment ids 0 then 1) equal the reference within 1e-4', async () => {
    const made = makeModel(FIXTURES[key]);
    const dims = made.dims as BertDims;
    const weights = made.weights.model!;
    const s = await ort.InferenceSession.create(join(fixture(key), 'onnx/model.onnx'));
    // [CLS] query [SEP] document [SEP], the second row padded.
    const ids = [
      [101, 500, 731, 102, 299, 640, 102],
      [101, 640, 102, 731, 102, 0, 0],
    ];
    const types = [
      [0, 0, 0, 0, 1, 1, 1],
      [0, 0, 0, 1, 1, 0, 0],
    ];
    const mask = ids.map((r, b) => r.map((_, i) => (b === 1 && i >= 5 ? 0 : 1)));
    const out = await s.run({ input_ids: i64(ids), attention_mask: i64(mask), token_type_ids: i64(types) });
    expect(out.logits!.dims).toEqual([2, labels]);
    const logits = out.logits!.data as Float32Array;
    for (let b = 0; b < 2; b++) {
      const ref = bertClassifierReference(weights, dims, ids[b]!, mask[b]!, types[b]!, labels);
      expect(maxAbsDiff(logits.subarray(b * labels, (b + 1) * labels), ref)).toBeLessThan(1e-4);
    }
    await s.release();
  });
});

describe('tiny bert NER (a label per token)', () => {
  it('ORT per-token logits equal the reference classifier over each token state within 1e-4', async () => {
    const made = makeModel(FIXTURES.ner);
    const dims = made.dims as BertDims;
    const weights = made.weights.model!;
    const s = await ort.InferenceSession.create(join(fixture('ner'), 'onnx/model.onnx'));
    const ids = [[101, 500, 731, 299, 102]];
    const mask = [[1, 1, 1, 1, 1]];
    const out = await s.run({ input_ids: i64(ids), attention_mask: i64(mask), token_type_ids: i64([[0, 0, 0, 0, 0]]) });
    const L = 9;
    expect(out.logits!.dims).toEqual([1, 5, L]);
    const states = bertReference(weights, dims, ids[0]!, mask[0]!);
    const W = weights.get('classifier.weight')!.data;
    const bias = weights.get('classifier.bias')!.data;
    const logits = out.logits!.data as Float32Array;
    for (let t = 0; t < 5; t++)
      for (let l = 0; l < L; l++) {
        let ref = bias[l]!;
        for (let h = 0; h < dims.hidden; h++) ref += states[t * dims.hidden + h]! * W[h * L + l]!;
        expect(Math.abs(logits[t * L + l]! - ref)).toBeLessThan(1e-4);
      }
    await s.release();
  });
});

describe('tiny gpt2', () => {
  const made = makeModel(FIXTURES.gpt2);
  const dims = made.dims as Gpt2Dims;
  const weights = made.weights.model!;
  const eos = dims.vocab - 1;

  it('ORT logits equal the reference within 1e-4 (left-padded batch, empty cache)', async () => {
    const s = await ort.InferenceSession.create(join(fixture('gpt2'), 'onnx/model.onnx'));
    const ids = [
      [eos, eos, 300, 41, 77],
      [12, 200, 300, 41, 77],
    ];
    const mask = [
      [0, 0, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ];
    const dH = dims.hidden / dims.heads;
    const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(mask.map(positionIds)) };
    for (let l = 0; l < dims.layers; l++) {
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [2, dims.heads, 0, dH]);
    }
    const out = await s.run(feeds);
    expect(out.logits!.dims).toEqual([2, 5, dims.vocab]);
    expect(out['present.0.key']!.dims).toEqual([2, dims.heads, 5, dH]);
    const logits = out.logits!.data as Float32Array;
    for (let b = 0; b < 2; b++) {
      const ref = gpt2Reference(weights, dims, ids[b]!, mask[b]!);
      const start = mask[b]!.indexOf(1);
      const per = 5 * dims.vocab;
      expect(maxAbsDiff(logits.subarray(b * per + start * dims.vocab, (b + 1) * per), ref.subarray(start * dims.vocab))).toBeLessThan(1e-4);
    }
    await s.release();
  });

  it('greedy generation with the KV cache equals recomputation without it', async () => {
    const dir = fixture('gpt2');
    const tok = await AutoTokenizer.from_pretrained(dir);
    const model = await AutoModelForCausalLM.from_pretrained(dir, CPU);
    const steps = 12;
    // Single prompt.
    const one = tok('The quick brown fox');
    const gen1 = (await model.generate({ ...one, max_new_tokens: steps, do_sample: false })) as { tolist(): bigint[][] };
    const ids1 = Array.from(one.input_ids.data as BigInt64Array, Number);
    const got1 = gen1.tolist()[0]!.map(Number).slice(ids1.length);
    expect(got1).toEqual(
      gpt2GreedyReference(
        weights,
        dims,
        ids1,
        ids1.map(() => 1),
        steps,
        eos,
      ),
    );
    // Batched, left-padded prompts of different lengths.
    tok.padding_side = 'left';
    const batch = tok(['Hello world', 'A model server lets agents use tools'], { padding: true });
    const gen2 = (await model.generate({ ...batch, max_new_tokens: steps, do_sample: false })) as { tolist(): bigint[][] };
    const rows = gen2.tolist();
    const width = batch.input_ids.dims[1] as number;
    for (let b = 0; b < 2; b++) {
      const ids = Array.from((batch.input_ids.data as BigInt64Array).subarray(b * width, (b + 1) * width), Number);
      const mask = Array.from((batch.attention_mask.data as BigInt64Array).subarray(b * width, (b + 1) * width), Number);
      const ref = gpt2GreedyReference(weights, dims, ids, mask, steps, eos);
      expect(rows[b]!.map(Number).slice(width, width + ref.length)).toEqual(ref);
    }
    expect(new Set(got1).size).toBeGreaterThan(1); // an untied head does not just repeat one token
    await model.dispose();
  });
});
