/**
 * Valid-looking generation requests that overrun the model's context: a prompt longer than the
 * model's positions is the caller's error (input_too_large, before any compute) and never opens
 * the model's circuit breaker; max_new_tokens is clamped to the room left and ends as `length`.
 * The generated distilgpt2 stand-in has 128 positions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startServer, type Harness } from '../helpers/server.js';

let h: Harness;
beforeAll(async () => {
  h = await startServer();
}, 120_000);
afterAll(async () => h?.close());

type Gen = { finish_reason: string; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };

describe('generation past the context', () => {
  it('a prompt longer than the context is input_too_large, and repeated ones leave the breaker closed', async () => {
    const prompt = 'word '.repeat(400);
    for (let i = 0; i < 8; i++) {
      const e = errorOf(await h.call('generate', { model: 'distilgpt2', prompt, max_new_tokens: 4 }));
      expect(e.code).toBe('input_too_large');
      expect(e.message).toMatch(/context holds 128 tokens/);
    }
    expect(h.app.deps.breakers.state('distilgpt2')).toBe('closed');
    const ok = await h.call('generate', { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 3 });
    expect(ok.isError, JSON.stringify(ok.content)).toBeFalsy();
  });

  it('max_new_tokens beyond the room left is clamped: the answer ends as length at the context', async () => {
    for (const meta of [{}, { cache: false }]) {
      const r = await h.client.callTool({
        name: 'generate',
        arguments: { model: 'distilgpt2', prompt: 'Hello there', max_new_tokens: 2048 },
        _meta: meta,
      });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      const g = r.structuredContent as Gen;
      expect(g.usage.total_tokens).toBeLessThanOrEqual(128);
      if (g.finish_reason === 'length') expect(g.usage.total_tokens).toBe(128);
    }
  });

  it('the batched path (several prompts at once) is clamped the same way', async () => {
    const out = await Promise.all(
      ['One', 'Two two', 'Three three three'].map((prompt) => h.call('generate', { model: 'distilgpt2', prompt, max_new_tokens: 500 })),
    );
    for (const r of out) {
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect((r.structuredContent as Gen).usage.total_tokens).toBeLessThanOrEqual(128);
    }
  });
});
