/**
 * Every generated architecture loads offline in its transformers.js pipeline and returns
 * correctly shaped, finite results.
 */
import { describe, expect, it } from 'vitest';
import { RawImage, pipeline } from '@huggingface/transformers';
import { CPU } from '../helpers/offline.js';
import { fixture } from '../helpers/fixtures.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function image(w: number, h: number, seed = 1): RawImage {
  const d = new Uint8ClampedArray(w * h * 3);
  for (let i = 0; i < d.length; i++) d[i] = (i * 37 + seed * 101 + ((i / (w * 3)) | 0) * 13) % 256;
  return new RawImage(d, w, h, 3);
}

const labelsOf = (dir: string): string[] =>
  Object.values(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).id2label as Record<string, string>);

describe('generated models in transformers.js pipelines (offline)', () => {
  it('feature-extraction with mean pooling + normalize gives unit vectors', async () => {
    const p = await pipeline('feature-extraction', fixture('bert'), CPU);
    const out = await p(['hello world', 'the quick brown fox jumps over the lazy dog'], { pooling: 'mean', normalize: true });
    expect(out.dims).toEqual([2, 32]);
    const rows = out.tolist() as number[][];
    for (const r of rows) {
      expect(r.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...r)).toBeCloseTo(1, 5);
    }
    expect(rows[0]).not.toEqual(rows[1]);
    await p.dispose();
  });

  it('tokenizes English into known word pieces, not [UNK]', async () => {
    const p = await pipeline('feature-extraction', fixture('bert'), CPU);
    const enc = p.tokenizer('the weather is nice today');
    const ids = Array.from(enc.input_ids.data as BigInt64Array, Number);
    expect(ids[0]).toBe(101);
    expect(ids.at(-1)).toBe(102);
    expect(ids).not.toContain(100);
    await p.dispose();
  });

  it('text-classification returns labels from id2label', async () => {
    const dir = fixture('classifier');
    const p = await pipeline('text-classification', dir, CPU);
    const out = (await p('i love this movie', { top_k: 2 })) as Array<{ label: string; score: number }>;
    expect(out.map((o) => o.label).sort()).toEqual(labelsOf(dir).sort());
    expect(out[0]!.score + out[1]!.score).toBeCloseTo(1, 5);
    await p.dispose();
  });

  it('text-generation honours max_new_tokens', async () => {
    const p = await pipeline('text-generation', fixture('gpt2'), CPU);
    const prompt = p.tokenizer('Hello world').input_ids;
    const out = await p.model.generate({ inputs: prompt, max_new_tokens: 7, do_sample: false });
    expect((out as { dims: number[] }).dims).toEqual([1, (prompt.dims[1] as number) + 7]);
    const text = (await p('Hello world', { max_new_tokens: 5, do_sample: false })) as Array<{ generated_text: string }>;
    expect(text[0]!.generated_text.startsWith('Hello world')).toBe(true);
    await p.dispose();
  });

  it('image-classification on a generated image', async () => {
    const dir = fixture('vit');
    const p = await pipeline('image-classification', dir, CPU);
    const out = (await p(image(40, 30), { top_k: 5 })) as Array<{ label: string; score: number }>;
    expect(out).toHaveLength(5);
    expect(out.map((o) => o.label).sort()).toEqual(labelsOf(dir).sort());
    expect(out.reduce((a, o) => a + o.score, 0)).toBeCloseTo(1, 4);
    await p.dispose();
  });

  it('object-detection returns labelled pixel boxes inside the image', async () => {
    const dir = fixture('detr');
    const p = await pipeline('object-detection', dir, CPU);
    const out = (await p(image(96, 64), { threshold: 0 })) as Array<{ label: string; score: number; box: Record<string, number> }>;
    expect(out.length).toBeGreaterThan(0);
    expect(out.length).toBeLessThanOrEqual(10);
    const labels = labelsOf(dir);
    for (const o of out) {
      expect(labels).toContain(o.label);
      expect(Number.isFinite(o.score)).toBe(true);
      expect(o.box.xmin).toBeGreaterThanOrEqual(0);
      expect(o.box.xmax).toBeLessThanOrEqual(96);
      expect(o.box.ymax).toBeLessThanOrEqual(64);
      expect(o.box.xmin).toBeLessThanOrEqual(o.box.xmax!);
    }
    await p.dispose();
  });

  it('zero-shot-image-classification scores every candidate label', async () => {
    const p = await pipeline('zero-shot-image-classification', fixture('clip'), CPU);
    const out = (await p(image(48, 40), ['a photo of a cat', 'a dog', 'a red car'])) as Array<{ label: string; score: number }>;
    expect(out.map((o) => o.label).sort()).toEqual(['a dog', 'a photo of a cat', 'a red car']);
    expect(out.reduce((a, o) => a + o.score, 0)).toBeCloseTo(1, 4);
    await p.dispose();
  });

  it('automatic-speech-recognition on generated audio returns a string', async () => {
    const p = await pipeline('automatic-speech-recognition', fixture('whisper'), CPU);
    const audio = new Float32Array(16000 * 2).map((_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0007));
    const out = (await p(audio, { max_new_tokens: 8, return_timestamps: true })) as { text: string; chunks: unknown[] };
    expect(typeof out.text).toBe('string');
    expect(Array.isArray(out.chunks)).toBe(true);
    await p.dispose();
  });
});
