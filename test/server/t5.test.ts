/**
 * flan-t5-small's path, end to end: a generated T5 placed under the built-in skill's Hub id
 * (Xenova/flan-t5-small), with no manifest changes. `generate` (text-to-text) equals the float64
 * reference decode token for token, and batched greedy generation (several prompts in one
 * generate() call, padded) gives each prompt its own reference tokens.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { TransformersBackend } from '../../src/backends/transformers.js';
import { makeModel } from '../../tools/modelgen/index.js';
import type { T5Dims } from '../../tools/modelgen/archs/t5.js';
import { t5GreedyReference } from '../../tools/modelgen/reference.js';
import { FIXTURES, fixture } from '../helpers/fixtures.js';
import { startServer } from '../helpers/server.js';

const made = makeModel(FIXTURES.t5);
const d = made.dims as T5Dims;
const reference = async (prompt: string, steps: number) => {
  const tok = await AutoTokenizer.from_pretrained(fixture('t5'));
  const ids = tok.encode(prompt);
  return t5GreedyReference(
    made.weights.encoder_model!,
    made.weights.decoder_model_merged!,
    d,
    ids,
    ids.map(() => 1),
    steps,
  ).filter((t) => t !== 1);
};

describe('flan-t5-small (generated T5) through the server', () => {
  it('is the default text-to-text model, and generate equals the reference decode token for token', async () => {
    const h = await startServer();
    try {
      const prompt = 'Summarize: the weather is nice today and the sun is shining over the river.';
      const r = await h.call('generate', { model: 'flan-t5-small', prompt, max_new_tokens: 10, return_token_ids: true });
      expect(r.isError).toBeFalsy();
      const out = r.structuredContent as { token_ids: number[]; text: string; finish_reason: string };
      expect(out.token_ids).toEqual(await reference(prompt, 10));
      expect(out.token_ids.length).toBeGreaterThan(1);
      expect(h.app.deps.registry.defaultFor('text2text-generation')?.skill.name).toBe('flan-t5-small');
    } finally {
      await h.close();
    }
  }, 120_000);

  it('batched greedy generation gives each prompt its own reference tokens', async () => {
    const backend = new TransformersBackend({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'hfms-cache-')), useFsCache: false });
    const h = await backend.load({ source: fixture('t5'), revision: 'main', task: 'text2text-generation', device: 'cpu', threads: 1 });
    const params = { maxNewTokens: 8, doSample: false, temperature: 1, topK: 0, topP: 1, stop: [] };
    const prompts = ['Translate to German: good morning.', 'Summarize: a model server lets agents use local models as tools, and more.'];
    const batch = await h.run({ task: 'text2text-generation', prompts: prompts.map((prompt) => ({ prompt })), params });
    expect(batch.batch).toHaveLength(2);
    for (const [i, p] of prompts.entries()) expect(batch.batch![i]!.tokenIds).toEqual(await reference(p, 8));
    await h.dispose();
  }, 120_000);
});
