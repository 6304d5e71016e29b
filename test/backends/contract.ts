/**
 * The backend contract: every Backend (real or test) must pass these, so the runtime can rely
 * on the same behaviour from all of them.
 */
import { describe, expect, it } from 'vitest';
import type { Backend, LoadRequest } from '../../src/backends/types.js';
import { ServerError } from '../../src/errors.js';

export interface ContractSubject {
  name: string;
  make(): Backend;
  /** Load requests for each task (sources valid for this backend). */
  embed: LoadRequest;
  classify: LoadRequest;
  generate: LoadRequest;
}

export function backendContract(s: ContractSubject): void {
  describe(`backend contract: ${s.name}`, () => {
    it('declares cpu and the text tasks', () => {
      const b = s.make();
      expect(b.devices).toContain('cpu');
      for (const t of ['feature-extraction', 'text-classification', 'text-generation'] as const) expect(b.tasks).toContain(t);
    });

    it('embeds: one vector per text, same dims, token counts, deterministic', async () => {
      const h = await s.make().load(s.embed);
      expect(h.task).toBe('feature-extraction');
      const out = await h.run({ task: 'feature-extraction', texts: ['hello world', 'a b c d e'], pooling: 'mean', normalize: true });
      expect(out.vectors).toHaveLength(2);
      expect(out.vectors[0]!.length).toBe(out.vectors[1]!.length);
      expect(out.tokens.every((t) => t > 0)).toBe(true);
      const again = await h.run({ task: 'feature-extraction', texts: ['hello world'], pooling: 'mean', normalize: true });
      expect(Array.from(again.vectors[0]!)).toEqual(Array.from(out.vectors[0]!));
      await h.dispose();
    });

    it('batch results equal single results (order kept)', async () => {
      const h = await s.make().load(s.embed);
      const texts = ['one', 'two two', 'three three three'];
      const batch = await h.run({ task: 'feature-extraction', texts, pooling: 'mean', normalize: false });
      for (let i = 0; i < texts.length; i++) {
        const single = await h.run({ task: 'feature-extraction', texts: [texts[i]!], pooling: 'mean', normalize: false });
        const d = Math.max(...Array.from(single.vectors[0]!, (x, j) => Math.abs(x - batch.vectors[i]![j]!)));
        expect(d).toBeLessThan(1e-4);
      }
      await h.dispose();
    });

    it('a batch of mixed lengths (run in length groups) gives each text, in order, what it gets alone', async () => {
      const long = (n: number) => Array.from({ length: n }, (_, i) => ['the', 'cat', 'sat', 'on', 'a', 'mat'][i % 6]).join(' ');
      const texts = ['hi', long(180), 'a short one', long(60), 'ok then', long(120), 'yes', long(20), 'one more short text'];
      const h = await s.make().load(s.embed);
      const batch = await h.run({ task: 'feature-extraction', texts, pooling: 'mean', normalize: true });
      for (const [i, text] of texts.entries()) {
        const single = await h.run({ task: 'feature-extraction', texts: [text], pooling: 'mean', normalize: true });
        expect(batch.tokens[i]).toBe(single.tokens[0]);
        const d = Math.max(...Array.from(single.vectors[0]!, (x, j) => Math.abs(x - batch.vectors[i]![j]!)));
        expect(d).toBeLessThan(1e-4);
      }
      await h.dispose();
      const c = await s.make().load(s.classify);
      const labels = await c.run({ task: 'text-classification', texts, topK: 2 });
      for (const [i, text] of texts.entries()) {
        const single = await c.run({ task: 'text-classification', texts: [text], topK: 2 });
        expect(labels.labels[i]!.map((l) => l.label)).toEqual(single.labels[0]!.map((l) => l.label));
        expect(labels.labels[i]![0]!.score).toBeCloseTo(single.labels[0]![0]!.score, 4);
      }
      await c.dispose();
    });

    it('tokenizes, and embedding the token ids equals embedding the text', async () => {
      const h = await s.make().load(s.embed);
      const texts = ['hello world', 'the cat sat on the mat'];
      const tok = await h.run({ task: 'tokenize', texts, addSpecialTokens: true });
      expect(tok.tokens).toHaveLength(2);
      const plain = await h.run({ task: 'tokenize', texts: [texts[1]!], addSpecialTokens: false });
      expect(plain.tokens[0]!.every((t) => !t.special)).toBe(true);
      expect(tok.tokens[1]!.filter((t) => !t.special).map((t) => t.id)).toEqual(plain.tokens[0]!.map((t) => t.id));
      // Spans, where found, point at the token's text in the input.
      for (const [i, row] of tok.tokens.entries())
        for (const t of row) if (t.start !== null) expect(texts[i]!.slice(t.start, t.stop!)).toBe(t.text);
      expect(plain.tokens[0]!.some((t) => t.start !== null)).toBe(true);
      const byText = await h.run({ task: 'feature-extraction', texts, pooling: 'mean', normalize: true });
      const ids = tok.tokens.map((row) => row.map((t) => t.id));
      const byIds = await h.run({ task: 'feature-extraction', texts: [], ids, pooling: 'mean', normalize: true });
      expect(byIds.tokens).toEqual(byText.tokens);
      for (let i = 0; i < texts.length; i++) {
        const d = Math.max(...Array.from(byText.vectors[i]!, (x, j) => Math.abs(x - byIds.vectors[i]![j]!)));
        expect(d).toBeLessThan(1e-5);
      }
      await expect(
        h.run({ task: 'feature-extraction', texts: [], ids: [[1, 2, 1e9]], pooling: 'mean', normalize: true }),
      ).rejects.toMatchObject({
        code: 'invalid_input',
      });
      await h.dispose();
    });

    it('classifies: top_k labels sorted by score', async () => {
      const h = await s.make().load(s.classify);
      const out = await h.run({ task: 'text-classification', texts: ['good', 'bad'], topK: 2 });
      expect(out.labels).toHaveLength(2);
      for (const l of out.labels) {
        expect(l).toHaveLength(2);
        expect(l[0]!.score).toBeGreaterThanOrEqual(l[1]!.score);
      }
      await h.dispose();
    });

    it('generates at most max_new_tokens, streaming text', async () => {
      const h = await s.make().load(s.generate);
      const pieces: string[] = [];
      const out = await h.run({
        task: 'text-generation',
        prompt: 'Hello',
        params: { maxNewTokens: 5, doSample: false, temperature: 1, topK: 0, topP: 1, stop: [] },
        onText: (p) => pieces.push(p),
      });
      expect(out.tokenIds.length).toBeLessThanOrEqual(5);
      expect(['stop', 'length']).toContain(out.finishReason);
      expect(out.promptTokens).toBeGreaterThan(0);
      await h.dispose();
    });

    it('batched greedy generation gives each prompt the same tokens as generating it alone', async () => {
      const h = await s.make().load(s.generate);
      const params = { maxNewTokens: 6, doSample: false, temperature: 1, topK: 0, topP: 1, stop: [] };
      const prompts = ['Hello', 'The quick brown fox jumps', 'A'];
      const out = await h.run({ task: 'text-generation', params, prompts: prompts.map((prompt) => ({ prompt })) });
      expect(out.batch).toHaveLength(3);
      for (let i = 0; i < prompts.length; i++) {
        const alone = await h.run({ task: 'text-generation', prompt: prompts[i], params });
        expect(out.batch![i]!.tokenIds).toEqual(alone.tokenIds);
        expect(out.batch![i]!.promptTokens).toBe(alone.promptTokens);
      }
      await h.dispose();
    });

    it('rejects a task it cannot serve with a ServerError', async () => {
      await expect(s.make().load({ ...s.embed, task: 'ocr' })).rejects.toBeInstanceOf(ServerError);
    });
  });
}
