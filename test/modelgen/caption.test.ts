/**
 * The generated image captioner (ViT encoder, GPT-2 decoder with cross-attention, as the
 * vit-gpt2-image-captioning family) against the float64 reference: encoder states and decoder
 * logits within 1e-4, the cached decoder step equal to recomputation, and greedy captioning
 * through transformers.js's own image-to-text pipeline equal to the reference decode.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { AutoProcessor, AutoTokenizer, RawImage, pipeline } from '@huggingface/transformers';
import { join } from 'node:path';
import { CPU } from '../helpers/offline.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { makeModel } from '../../tools/modelgen/index.js';
import type { VitGpt2Dims } from '../../tools/modelgen/archs/vit-gpt2.js';
import { captionDecoderReference, captionEncoderReference, captionGreedyReference } from '../../tools/modelgen/reference.js';

const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** A 40x30 test picture: a gradient with a bright square, so every patch differs. */
function picture(): RawImage {
  const W = 40;
  const H = 30;
  const data = new Uint8ClampedArray(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      const inSquare = x > 10 && x < 22 && y > 6 && y < 18;
      data[i] = inSquare ? 250 : (x * 6) % 256;
      data[i + 1] = inSquare ? 240 : (y * 8) % 256;
      data[i + 2] = (x * y) % 256;
    }
  }
  return new RawImage(data, W, H, 3);
}

describe('vit-gpt2 captioner', () => {
  const made = makeModel({ arch: 'vit-gpt2' });
  const d = made.dims as VitGpt2Dims;
  const dir = () => ensureModel({ arch: 'vit-gpt2' });
  const encW = made.weights.encoder_model!;
  const decW = made.weights.decoder_model_merged!;
  const eos = d.vocab - 1;

  const pixelsOf = async () => {
    const processor = await AutoProcessor.from_pretrained(dir());
    const { pixel_values } = (await processor(picture())) as { pixel_values: ort.Tensor };
    return pixel_values;
  };

  it('encoder states and decoder logits (first step and cached step) equal the reference within 1e-4', async () => {
    expect(made.config).toMatchObject({
      model_type: 'vision-encoder-decoder',
      encoder: { model_type: 'vit' },
      decoder: { model_type: 'gpt2', add_cross_attention: true },
    });
    const px = await pixelsOf();
    expect(px.dims).toEqual([1, 3, d.image, d.image]);
    const enc = await ort.InferenceSession.create(join(dir(), 'onnx/encoder_model.onnx'));
    const states = (await enc.run({ pixel_values: new ort.Tensor('float32', px.data as Float32Array, px.dims) })).last_hidden_state!;
    const ref = captionEncoderReference(encW, d, Float64Array.from(px.data as Float32Array));
    expect(states.dims).toEqual([1, (d.image / d.patch) ** 2 + 1, d.hidden]);
    expect(maxAbsDiff(states.data as Float32Array, ref)).toBeLessThan(1e-4);

    const dec = await ort.InferenceSession.create(join(dir(), 'onnx/decoder_model_merged.onnx'));
    const dH = d.hidden / d.heads;
    const feeds: Record<string, ort.Tensor> = { input_ids: i64([[eos, 7, 9]]), encoder_hidden_states: states };
    for (let l = 0; l < d.decLayers; l++)
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, d.heads, 0, dH]);
    const first = await dec.run(feeds);
    const full = captionDecoderReference(decW, d, ref, [eos, 7, 9, 21]);
    expect(maxAbsDiff(first.logits!.data as Float32Array, full.subarray(0, 3 * d.vocab))).toBeLessThan(1e-4);
    // One more token through the cache equals the last row of full recomputation.
    const step: Record<string, ort.Tensor> = { input_ids: i64([[21]]), encoder_hidden_states: states };
    for (let l = 0; l < d.decLayers; l++)
      for (const kv of ['key', 'value']) step[`past_key_values.${l}.${kv}`] = first[`present.${l}.${kv}`]!;
    const next = (await dec.run(step)).logits!.data as Float32Array;
    expect(maxAbsDiff(next, full.subarray(3 * d.vocab))).toBeLessThan(1e-4);
    await enc.release();
    await dec.release();
  }, 120_000);

  it("transformers.js's image-to-text pipeline captions greedily as the reference decodes", async () => {
    const px = await pixelsOf();
    const want = captionGreedyReference(encW, decW, d, Float64Array.from(px.data as Float32Array), eos, 12, eos);
    const tok = await AutoTokenizer.from_pretrained(dir());
    const captioner = await pipeline('image-to-text', dir(), CPU);
    const out = (await captioner(picture(), { max_new_tokens: 12 })) as Array<{ generated_text: string }>;
    const text = tok
      .decode(
        want.filter((t) => t !== eos),
        { skip_special_tokens: true },
      )
      .trim();
    expect(want.length).toBeGreaterThan(2);
    expect(out[0]!.generated_text).toBe(text);
    await captioner.dispose();
  }, 120_000);
});
