/**
 * The default chat model's path, end to end: a generated Qwen2-kind model placed under the
 * built-in skill's Hub id (onnx-community/Qwen2.5-0.5B-Instruct), with no manifest changes. The
 * skill names q4 for CPU, so model_q4.onnx (MatMulNBits) is what loads. Greedy chat output equals
 * the float64 reference decode on the q4 weights, token for token; streaming equals the whole
 * answer; stop strings cut it; and the backend's lean decoding loop and transformers.js's
 * generate() (the batched path) give the same tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { TransformersBackend } from '../../src/backends/transformers.js';
import { makeModel } from '../../tools/modelgen/index.js';
import { QWEN2, type LlamaDims } from '../../tools/modelgen/archs/llama.js';
import { llamaGreedyReference } from '../../tools/modelgen/reference.js';
import { FIXTURES, fixture } from '../helpers/fixtures.js';
import { startServer, type Harness } from '../helpers/server.js';

const made = makeModel(FIXTURES.qwen2);
const d = made.dims as LlamaDims;
const q4 = made.weights.model_q4!;
const EOS = [d.vocab - 1, d.vocab - 3]; // <|im_end|>, <|endoftext|>
const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Name a colour.' },
];

/** The prompt's token ids as the model's own tokenizer and chat template make them. */
async function promptIds(msgs: typeof messages): Promise<number[]> {
  const tok = await AutoTokenizer.from_pretrained(fixture('qwen2'));
  const text = tok.apply_chat_template(msgs, { tokenize: false, add_generation_prompt: true }) as string;
  expect(text).toBe('<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n');
  return Array.from(tok(text, { add_special_tokens: false }).input_ids.data as BigInt64Array, Number);
}

describe('qwen2.5-0.5b-instruct (generated, q4) through the server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer();
  }, 120_000);
  afterAll(async () => h?.close());

  const generate = async (args: Record<string, unknown>, onprogress?: (p: { message?: string }) => void) => {
    const r = await h.client.callTool({ name: 'generate', arguments: args }, undefined, onprogress ? { onprogress } : undefined);
    if (r.isError) throw new Error(JSON.stringify(r.content));
    return r.structuredContent as { model: string; text: string; finish_reason: string; token_ids: number[] };
  };

  it('is the default generation model, and its CPU dtype (q4) is what loads', async () => {
    const info = (await h.call('load_model', { model: 'qwen2.5-0.5b-instruct' })).structuredContent as { dtype: string; source: string };
    expect(info.dtype).toBe('q4');
    expect(info.source).toContain('Qwen2.5-0.5B-Instruct');
  });

  it('chat messages go through the template, and greedy output equals the reference decode token for token', async () => {
    const steps = 12;
    const out = await generate({ messages, max_new_tokens: steps, return_token_ids: true });
    expect(out.model).toBe('qwen2.5-0.5b-instruct');
    const ids = await promptIds(messages);
    const want = llamaGreedyReference(
      q4,
      d,
      QWEN2,
      ids,
      ids.map(() => 1),
      steps,
      EOS,
    );
    expect(out.token_ids).toEqual(want.filter((t) => !EOS.includes(t)));
    expect(new Set(out.token_ids).size).toBeGreaterThan(1);
  });

  it('streaming gives the same text as the whole answer', async () => {
    const whole = await generate({ messages, max_new_tokens: 12 });
    const pieces: string[] = [];
    const streamed = await generate({ messages, max_new_tokens: 12 }, (p) => pieces.push(p.message ?? ''));
    expect(streamed.text).toBe(whole.text);
    // Pieces go out at word boundaries (a partial word may still change as tokens arrive).
    const text = pieces.filter((p) => !p.startsWith('loading model'));
    expect(text.length).toBeGreaterThan(0);
    expect(text.join('')).toBe(whole.text);
  });

  it('a stop string ends the answer before it', async () => {
    const whole = await generate({ messages, max_new_tokens: 12 });
    const stop = whole.text.slice(Math.floor(whole.text.length / 2), Math.floor(whole.text.length / 2) + 2);
    expect(stop.length).toBe(2);
    const cut = await generate({ messages, max_new_tokens: 12, stop: [stop] });
    expect(cut.finish_reason).toBe('stop_sequence');
    expect(whole.text.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBeLessThan(whole.text.length);
    expect(cut.text).not.toContain(stop);
  });
});

describe('qwen2 q4: the lean loop and generate() agree', () => {
  it('a single prompt (lean loop) and the same prompts batched (generate()) give the same tokens', async () => {
    const backend = new TransformersBackend({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'hfms-cache-')), useFsCache: false });
    const h = await backend.load({
      source: fixture('qwen2'),
      revision: 'main',
      task: 'text-generation',
      device: 'cpu',
      dtype: 'q4',
      threads: 1,
    });
    const params = { maxNewTokens: 10, doSample: false, temperature: 1, topK: 0, topP: 1, stop: [] };
    const prompts = [
      { messages },
      { messages: [{ role: 'user' as const, content: 'A much longer question, to pad the other prompt on the left?' }] },
    ];
    const singles = [];
    for (const p of prompts) singles.push(await h.run({ task: 'text-generation', ...p, params }));
    const batch = await h.run({ task: 'text-generation', prompts, params });
    expect(batch.batch!.map((b) => b.tokenIds)).toEqual(singles.map((s) => s.tokenIds));
    expect(batch.batch!.map((b) => b.text)).toEqual(singles.map((s) => s.text));
    const ids = await promptIds(messages);
    expect(singles[0]!.tokenIds).toEqual(
      llamaGreedyReference(
        q4,
        d,
        QWEN2,
        ids,
        ids.map(() => 1),
        10,
        EOS,
      ).filter((t) => !EOS.includes(t)),
    );
    await h.dispose();
  }, 120_000);
});

describe('tinyllama-1.1b-chat (generated Llama, q8) through the server', () => {
  it('loads its CPU dtype (model_quantized.onnx, MatMulInteger) and answers chat messages', async () => {
    const h = await startServer();
    try {
      const info = (await h.call('load_model', { model: 'tinyllama-1.1b-chat' })).structuredContent as { dtype: string };
      expect(info.dtype).toBe('q8');
      const r = await h.call('generate', { model: 'tinyllama-1.1b-chat', messages, max_new_tokens: 8, return_token_ids: true });
      expect(r.isError).toBeFalsy();
      const out = r.structuredContent as { token_ids: number[]; usage: { prompt_tokens: number } };
      expect(out.token_ids.length).toBeGreaterThan(0);
      // The Zephyr-style template: <|system|>, <|user|> and <|assistant|> turns, no <s> added to the rendered text.
      const tok = await AutoTokenizer.from_pretrained(fixture('llama'));
      const text = tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as string;
      expect(out.usage.prompt_tokens).toBe(tok.encode(text, { add_special_tokens: false }).length);
    } finally {
      await h.close();
    }
  }, 120_000);
});
