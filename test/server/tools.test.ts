/**
 * The MCP server through a real SDK Client over InMemoryTransport, on generated models.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../src/config/config.js';
import { pipeline } from '@huggingface/transformers';
import { CPU } from '../helpers/offline.js';
import { FIXTURES, fixture } from '../helpers/fixtures.js';
import { startServer, type Harness } from '../helpers/server.js';
import { makeModel } from '../../tools/modelgen/index.js';
import { gpt2GreedyReference } from '../../tools/modelgen/reference.js';
import type { Gpt2Dims } from '../../tools/modelgen/archs/gpt2.js';
import { AutoTokenizer } from '@huggingface/transformers';

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => h.close());

type Emb = { model: string; dims: number; embeddings: Array<number[] | string>; usage: { prompt_tokens: number } };

describe('tools/list', () => {
  it('with --output-schemas, every tool lists one and the SDK client checks results against it', async () => {
    const typed = await startServer({ outputSchemas: true });
    try {
      const { tools } = await typed.client.listTools();
      for (const t of tools) expect(t.outputSchema?.type, t.name).toBe('object');
      // The SDK's client validates structuredContent against the listed schema and throws when it does not fit.
      const embedded = await typed.client.callTool({ name: 'embed', arguments: { texts: ['typed'] } });
      expect((embedded.structuredContent as { dims: number }).dims).toBeGreaterThan(0);
      const tokens = await typed.client.callTool({ name: 'tokenize', arguments: { text: 'typed results' } });
      expect(tokens.isError).toBeFalsy();
    } finally {
      await typed.close();
    }
  });

  it('lists the text tools with input schemas (output schemas are opt-in: test/mcp/tool-tokens.test.ts)', async () => {
    const { tools } = await h.client.listTools();
    const names = tools.map((t) => t.name).sort();
    // register_model is off unless a flag enables it (test/server/register-model.test.ts, smoke/hot-reload).
    expect(names).toEqual(TOOL_NAMES.filter((n) => n !== 'register_model').sort());
    for (const t of tools) {
      expect(t.description!.length).toBeGreaterThan(20);
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema).toBeUndefined();
      expect(t.annotations).toBeDefined();
      for (const [field, schema] of Object.entries(t.inputSchema.properties ?? {})) {
        expect((schema as { description?: string }).description, `${t.name}.${field} has a description`).toBeTruthy();
      }
    }
    const embed = tools.find((t) => t.name === 'embed')!;
    const model = (embed.inputSchema.properties as Record<string, { enum: string[]; default: string }>).model!;
    expect(model.enum).toContain('all-minilm-l6-v2');
    expect(model.default).toBe('all-minilm-l6-v2');
    const gen = tools.find((t) => t.name === 'generate')!;
    expect((gen.inputSchema.properties as Record<string, { enum: string[] }>).model!.enum).toEqual(
      expect.arrayContaining(['qwen2.5-0.5b-instruct', 'distilgpt2', 'flan-t5-small', 'tiny-chat']),
    );
  });
});

describe('embed', () => {
  const texts = ['The quick brown fox jumps over the lazy dog.', 'hello world', 'Machine learning models read text.'];

  it('returns the same vectors as the transformers.js pipeline (1e-5)', async () => {
    const r = await h.call('embed', { texts });
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as Emb;
    expect(out.dims).toBe(384);
    expect(out.embeddings).toHaveLength(3);
    const p = await pipeline('feature-extraction', fixture('minilm'), CPU);
    const ref = (await p(texts, { pooling: 'mean', normalize: true })).tolist() as number[][];
    for (let i = 0; i < texts.length; i++) {
      const got = out.embeddings[i] as number[];
      expect(Math.max(...got.map((x, j) => Math.abs(x - ref[i]![j]!)))).toBeLessThan(1e-5);
    }
    expect(out.usage.prompt_tokens).toBeGreaterThan(texts.length * 2);
    await p.dispose();
  });

  it('encoding base64 decodes to the same little-endian float32 vector', async () => {
    const f = (await h.call('embed', { texts: ['hello world'] })).structuredContent as Emb;
    const b = (await h.call('embed', { texts: ['hello world'], encoding: 'base64' })).structuredContent as Emb;
    const buf = Buffer.from(b.embeddings[0] as string, 'base64');
    expect(buf.length).toBe(384 * 4);
    const dec = Array.from({ length: 384 }, (_, i) => buf.readFloatLE(i * 4));
    expect(dec).toEqual((f.embeddings[0] as number[]).map((x) => Math.fround(x)));
  });

  it('dimensions truncates and renormalises', async () => {
    const full = (await h.call('embed', { texts: ['hello world'] })).structuredContent as Emb;
    const cut = (await h.call('embed', { texts: ['hello world'], dimensions: 64 })).structuredContent as Emb;
    const v = cut.embeddings[0] as number[];
    expect(cut.dims).toBe(64);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const f = (full.embeddings[0] as number[]).slice(0, 64);
    const n = Math.hypot(...f);
    expect(v[0]).toBeCloseTo(f[0]! / n, 5);
  });
});

describe('similarity', () => {
  it('ranks an exact duplicate of the query first', async () => {
    const documents = [
      'Good morning and good night.',
      'The weather is nice today.',
      'Speech recognition turns audio into text.',
      'A model server lets agents use local models.',
    ];
    const r = await h.call('similarity', { query: 'The weather is nice today.', documents });
    const out = r.structuredContent as { results: Array<{ index: number; score: number; document: string }> };
    expect(out.results.map((x) => x.index).sort()).toEqual([0, 1, 2, 3]);
    expect(out.results[0]!.index).toBe(1);
    expect(out.results[0]!.score).toBeCloseTo(1, 5);
    expect(out.results[0]!.document).toBe(documents[1]);
    for (let i = 1; i < out.results.length; i++) expect(out.results[i - 1]!.score).toBeGreaterThanOrEqual(out.results[i]!.score);
  });

  it('scores pairs and honours top_k', async () => {
    const r = await h.call('similarity', {
      pairs: [
        ['a cat', 'a dog'],
        ['same text', 'same text'],
      ],
      top_k: 1,
    });
    const out = r.structuredContent as { results: Array<{ index: number; score: number }> };
    expect(out.results).toHaveLength(1);
    expect(out.results[0]!.index).toBe(1);
  });
});

describe('classify', () => {
  it('returns labels from id2label', async () => {
    const r = await h.call('classify', { texts: ['I love this', 'I hate this'], top_k: 2 });
    const out = r.structuredContent as { results: Array<{ labels: Array<{ label: string; score: number }> }> };
    expect(out.results).toHaveLength(2);
    for (const res of out.results) {
      expect(res.labels.map((l) => l.label).sort()).toEqual(['NEGATIVE', 'POSITIVE']);
      expect(res.labels[0]!.score).toBeGreaterThanOrEqual(res.labels[1]!.score);
      expect(res.labels[0]!.score + res.labels[1]!.score).toBeCloseTo(1, 5);
    }
  });
});

describe('generate', () => {
  const made = makeModel(FIXTURES.gpt2);
  const dims = made.dims as Gpt2Dims;

  it('returns the same token ids as the reference greedy decode, streaming progress', async () => {
    const prompt = 'The quick brown fox';
    const progress: Array<{ progress: number; message?: string }> = [];
    const r = await h.client.callTool(
      { name: 'generate', arguments: { model: 'distilgpt2', prompt, max_new_tokens: 10, return_token_ids: true } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as {
      text: string;
      token_ids: number[];
      finish_reason: string;
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const tok = await AutoTokenizer.from_pretrained(fixture('gpt2'));
    const ids = Array.from(tok(prompt).input_ids.data as BigInt64Array, Number);
    const ref = gpt2GreedyReference(
      made.weights.model!,
      dims,
      ids,
      ids.map(() => 1),
      10,
      dims.vocab - 1,
    );
    expect(out.token_ids).toEqual(ref.filter((t) => t !== dims.vocab - 1));
    expect(out.usage.prompt_tokens).toBe(ids.length);
    expect(out.usage.completion_tokens).toBe(out.token_ids.length);
    expect(out.finish_reason).toBe(ref.length === 10 && !ref.includes(dims.vocab - 1) ? 'length' : 'stop');
    expect(progress.length).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    const streamed = progress
      .filter((p) => !p.message?.startsWith('loading model:'))
      .map((p) => p.message ?? '')
      .join('');
    expect(streamed.length).toBeGreaterThan(0);
    expect(out.text.startsWith(streamed.trimEnd()) || streamed.startsWith(out.text)).toBe(true);
  });

  it('batches concurrent greedy requests, each equal to the reference decode', async () => {
    const prompts = ['The quick brown fox', 'Hello world', 'A model server lets agents', 'Good morning'];
    const tok = await AutoTokenizer.from_pretrained(fixture('gpt2'));
    const outs = await Promise.all(
      prompts.map((prompt) => h.call('generate', { model: 'distilgpt2', prompt, max_new_tokens: 6, return_token_ids: true })),
    );
    outs.forEach((r, i) => {
      const ids = Array.from(tok(prompts[i]!).input_ids.data as BigInt64Array, Number);
      const ref = gpt2GreedyReference(
        made.weights.model!,
        dims,
        ids,
        ids.map(() => 1),
        6,
        dims.vocab - 1,
      ).filter((t) => t !== dims.vocab - 1);
      expect((r.structuredContent as { token_ids: number[] }).token_ids).toEqual(ref);
    });
    const sizes = (await h.app.deps.metrics.batchSize.get()).values.filter(
      (v) => v.labels.model === 'distilgpt2' && v.metricName === 'batch_size_sum',
    );
    const counts = (await h.app.deps.metrics.batchSize.get()).values.filter(
      (v) => v.labels.model === 'distilgpt2' && v.metricName === 'batch_size_count',
    );
    expect(sizes[0]!.value / counts[0]!.value).toBeGreaterThan(1); // some requests shared a batch
  });

  it('renders chat messages with the chat template', async () => {
    const r = await h.call('generate', {
      model: 'tiny-chat',
      messages: [{ role: 'user', content: 'hello' }],
      max_new_tokens: 4,
      return_token_ids: true,
    });
    const out = r.structuredContent as { usage: { prompt_tokens: number }; token_ids: number[] };
    const tok = await AutoTokenizer.from_pretrained(fixture('gpt2'));
    const rendered = '<|user|>\nhello\n<|assistant|>\n';
    expect(out.usage.prompt_tokens).toBe(tok(rendered).input_ids.dims[1]);
  });

  it('seeded sampling is reproducible and stop strings end generation', async () => {
    const args = {
      model: 'distilgpt2',
      prompt: 'Hello',
      max_new_tokens: 12,
      do_sample: true,
      temperature: 1.5,
      seed: 7,
      return_token_ids: true,
    };
    const a = (await h.call('generate', args)).structuredContent as { token_ids: number[]; text: string };
    const b = (await h.call('generate', args)).structuredContent as { token_ids: number[] };
    const c = (await h.call('generate', { ...args, seed: 8 })).structuredContent as { token_ids: number[] };
    expect(a.token_ids).toEqual(b.token_ids);
    expect(a.token_ids).not.toEqual(c.token_ids);
    const stopAt = a.text.slice(3, 5);
    const s = (await h.call('generate', { ...args, stop: [stopAt] })).structuredContent as { text: string; finish_reason: string };
    expect(s.finish_reason).toBe('stop_sequence');
    expect(s.text).toBe(a.text.slice(0, a.text.indexOf(stopAt)));
  });
});

describe('load_model / unload_model', () => {
  it('loads, reports, and unloads a model', async () => {
    const l = await h.call('load_model', { model: 'distilbert-sst2' });
    expect(l.structuredContent).toMatchObject({ model: 'distilbert-sst2', status: 'loaded', device: 'cpu', dtype: 'fp32' });
    const loaded = JSON.parse(((await h.client.readResource({ uri: 'hf://models/loaded' })).contents[0] as { text: string }).text);
    expect(loaded.models.map((m: { model: string }) => m.model)).toContain('distilbert-sst2');
    expect((await h.call('unload_model', { model: 'distilbert-sst2' })).structuredContent).toEqual({
      model: 'distilbert-sst2',
      result: 'unloaded',
    });
    expect((await h.call('unload_model', { model: 'distilbert-sst2' })).structuredContent).toEqual({
      model: 'distilbert-sst2',
      result: 'not_loaded',
    });
  });
});

describe('benchmark_model', () => {
  it('measures latency and throughput per device, and reports unusable devices', async () => {
    const r = await h.call('benchmark_model', { model: 'distilbert-sst2', iterations: 3, batch_size: 2, devices: ['cpu', 'rocm'] });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    const out = r.structuredContent as {
      results: Array<{ device: string; ok: boolean; error?: string; latencyMs?: { p50: number }; throughput?: number; unit?: string }>;
    };
    const cpu = out.results.find((x) => x.device === 'cpu')!;
    expect(cpu.ok).toBe(true);
    expect(cpu.latencyMs!.p50).toBeGreaterThan(0);
    expect(cpu.throughput).toBeGreaterThan(0);
    expect(cpu.unit).toBe('items/s');
    const rocm = out.results.find((x) => x.device === 'rocm')!;
    expect(rocm.ok).toBe(false);
    expect(rocm.error).toMatch(/not usable here; usable: .*cpu/);
    const g = (await h.call('benchmark_model', { model: 'distilgpt2', iterations: 2, devices: ['cpu'] })).structuredContent as {
      results: Array<{ unit: string; ok: boolean }>;
    };
    expect(g.results[0]).toMatchObject({ ok: true, unit: 'tokens/s' });
  });
});

describe('resources', () => {
  it('read back valid JSON', async () => {
    const { resources } = await h.client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining(['hf://hardware', 'hf://models', 'hf://models/loaded', 'hf://models/all-minilm-l6-v2']));
    for (const uri of uris) {
      const r = await h.client.readResource({ uri });
      const text = (r.contents[0] as { text: string }).text;
      expect(() => JSON.parse(text), uri).not.toThrow();
    }
    const hw = JSON.parse(((await h.client.readResource({ uri: 'hf://hardware' })).contents[0] as { text: string }).text);
    expect(hw.cpu.cores).toBeGreaterThan(0);
    expect(hw.runtime.usable).toContain('cpu');
    // This server pins one thread: the flag wins, encoders alike, one replica.
    expect(hw.threads).toEqual({ intraOpThreads: 1, encoderThreads: 1, encoderReplicas: 1 });
    const models = JSON.parse(((await h.client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text);
    expect(models.skills.find((s: { name: string }) => s.name === 'all-minilm-l6-v2').status).toMatch(/available|loaded/);
    const one = JSON.parse(((await h.client.readResource({ uri: 'hf://models/whisper-tiny' })).contents[0] as { text: string }).text);
    expect(one.tasks).toEqual(['automatic-speech-recognition']);
    const templates = await h.client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toContain('hf://models/{name}');
  });
});
