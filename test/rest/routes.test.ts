/**
 * The TEI-compatible and task routes, the API description, and the shared executor: `/rerank`
 * orders like the MCP `similarity` tool, `/embed` and `/predict` answer what `embed` and
 * `classify` do, `/v1/{task}` answers the tool's structured result (JSON and multipart), and a
 * REST call and an MCP call in flight together are served in one batch. `/openapi.json` is a
 * valid OpenAPI 3.1 document that lists every route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { validate } from '@readme/openapi-parser';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { testSkills } from '../helpers/server.js';
import { closeHttpApps, startHttpApp } from '../helpers/http.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { PAGE } from '../helpers/media.js';

afterAll(closeHttpApps);

/** A server with the test skills plus an embedder that waits long enough to batch everything in flight. */
async function start(over: Parameters<typeof startHttpApp>[0] = {}) {
  const skills = {
    ...testSkills(),
    'slow-batch.json': {
      name: 'batched-embedder',
      family: 'bert',
      architecture: 'encoder-only',
      tasks: ['feature-extraction'],
      description: 'Generated MiniLM-shaped BERT.',
      model: { id: ensureModel({ arch: 'bert', size: 'minilm-l6' }) },
      batch: { max_batch_size: 64, max_batch_tokens: 100_000 },
    },
  };
  return startHttpApp({ batchConcurrency: 1, ...over }, { skills });
}

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, body: (await r.json()) as unknown };
}

describe('TEI and task routes', () => {
  let s: Awaited<ReturnType<typeof start>>;
  let client: Client;
  const tool = async (name: string, args: Record<string, unknown>) => {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(JSON.stringify(r.content));
    return r.structuredContent as Record<string, unknown>;
  };
  beforeAll(async () => {
    s = await start();
    client = new Client({ name: 'routes-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.http.url)));
  });
  afterAll(() => client.close());

  const query = 'how do cats sleep';
  const texts = ['stock prices fell sharply', 'cats sleep most of the day', 'a recipe for bread', 'kittens nap in the sun'];

  it('/rerank orders texts as the MCP rerank tool does (a cross-encoder); a named embedding model as similarity does', async () => {
    const cross = (await tool('rerank', { query, documents: texts })).results as Array<{ index: number; score: number }>;
    const byDefault = (await post(s.base, '/rerank', { query, texts })).body as Array<{ index: number; score: number }>;
    expect(byDefault.map((x) => x.index)).toEqual(cross.map((x) => x.index));
    byDefault.forEach((x, i) => expect(x.score).toBeCloseTo(cross[i]!.score, 6));
    const want = (await tool('similarity', { query, documents: texts })).results as Array<{
      index: number;
      score: number;
      document: string;
    }>;
    const r = await post(s.base, '/rerank', { query, texts, return_text: true, model: 'all-minilm-l6-v2' });
    expect(r.status).toBe(200);
    const got = r.body as Array<{ index: number; score: number; text: string }>;
    expect(got.map((x) => x.index)).toEqual(want.map((x) => x.index));
    got.forEach((x, i) => {
      expect(x.score).toBeCloseTo(want[i]!.score, 6);
      expect(x.text).toBe(texts[x.index]);
    });
    const bare = (await post(s.base, '/rerank', { query, texts })).body as Array<Record<string, unknown>>;
    expect(bare[0]).not.toHaveProperty('text');
  });

  it('/embed and /predict answer what embed and classify do', async () => {
    const want = (await tool('embed', { texts })).embeddings;
    const r = await post(s.base, '/embed', { inputs: texts });
    expect(r.body).toEqual(want);
    const one = await post(s.base, '/embed', { inputs: texts[0], dimensions: 4 });
    expect((one.body as number[][])[0]).toHaveLength(4);
    const labels = ((await tool('classify', { text: 'I love it', top_k: 1000 })).results as Array<{ labels: unknown[] }>)[0]!.labels;
    expect((await post(s.base, '/predict', { inputs: 'I love it' })).body).toEqual(labels);
    const batch = (await post(s.base, '/predict', { inputs: ['I love it', 'I hate it', 'meh'] })).body as unknown[][];
    expect(batch).toHaveLength(3);
    expect(batch[0]).toEqual(labels);
    // As in TEI, two strings are one text pair, not a batch of two.
    const pair = (await post(s.base, '/predict', { inputs: ['I love it', 'I hate it'] })).body as Array<{ label: string }>;
    expect(pair.map((l) => typeof l.label)).toEqual(['string', 'string']);
    const pairOf = (
      (await tool('classify', { text: 'I love it', text_pairs: ['I hate it'], top_k: 1000 })).results as Array<{ labels: unknown[] }>
    )[0]!.labels;
    expect(pair).toEqual(pairOf);
    const info = await (await fetch(`${s.base}/info`)).json();
    expect(info).toMatchObject({ model_id: 'Xenova/all-MiniLM-L6-v2', model_type: { embedding: { pooling: 'mean' } } });
  });

  it('/tokenize gives the model’s tokens with their spans, and embedding those ids equals embedding the text', async () => {
    const text = 'The cat sat on the mat';
    const r = await post(s.base, '/tokenize', { inputs: text });
    expect(r.status).toBe(200);
    const [tokens] = r.body as Array<Array<{ id: number; text: string; special: boolean; start: number | null; stop: number | null }>>;
    expect(tokens![0]!.special).toBe(true); // [CLS]
    expect(tokens!.at(-1)!.special).toBe(true); // [SEP]
    const words = tokens!.filter((t) => !t.special);
    expect(words.map((t) => t.text.toLowerCase())).toEqual(['the', 'cat', 'sat', 'on', 'the', 'mat']);
    for (const t of words) expect(text.slice(t.start!, t.stop!)).toBe(t.text);
    const mcp = (await tool('tokenize', { text })).tokens;
    expect(mcp).toEqual([tokens]);
    const ids = tokens!.map((t) => t.id);
    const byIds = await post(s.base, '/v1/embeddings', { input: ids, encoding_format: 'float' });
    const byText = await post(s.base, '/v1/embeddings', { input: text, encoding_format: 'float' });
    const a = (byIds.body as { data: Array<{ embedding: number[] }> }).data[0]!.embedding;
    const b = (byText.body as { data: Array<{ embedding: number[] }> }).data[0]!.embedding;
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 5));
    expect((byIds.body as { usage: unknown }).usage).toEqual((byText.body as { usage: unknown }).usage);
    const bad = await post(s.base, '/v1/embeddings', { input: [[1, 2, 99_999_999]] });
    expect(bad.status).toBe(400);
  });

  it('TEI errors come in its shape', async () => {
    const r = await post(s.base, '/embed', { inputs: [] });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error_type: 'validation', code: 'invalid_input' });
    expect(typeof (r.body as { error: unknown }).error).toBe('string');
  });

  it('/v1/{task} answers the tool’s structured result, from JSON or a multipart upload', async () => {
    const args = { query, documents: texts, top_k: 2 };
    expect((await post(s.base, '/v1/similarity', args)).body).toEqual(await tool('similarity', args));
    const gen = { model: 'distilgpt2', prompt: 'Hi', max_new_tokens: 5 };
    expect((await post(s.base, '/v1/generate', gen)).body).toEqual(await tool('generate', gen));
    expect((await post(s.base, '/v1/infer/distilgpt2', { prompt: 'Hi', max_new_tokens: 5 })).body).toEqual(await tool('generate', gen));

    const form = new FormData();
    form.set('image', new Blob([readFileSync(PAGE)], { type: 'image/png' }), 'page.png');
    form.set('min_confidence', '0.2');
    const r = await fetch(`${s.base}/v1/ocr`, { method: 'POST', body: form });
    expect(r.status, await r.clone().text()).toBe(200);
    const want = await tool('ocr', { image_base64: readFileSync(PAGE).toString('base64'), min_confidence: 0.2 });
    expect(await r.json()).toEqual(want);

    const bad = await post(s.base, '/v1/embed', { texts: ['x'], colour: 'blue' });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string; message: string } }).error.message).toMatch(/colour/);
    const wrong = await fetch(`${s.base}/v1/embed`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const hw = (await (await fetch(`${s.base}/v1/hardware`)).json()) as { cpu: { cores: number } };
    expect(hw.cpu.cores).toBeGreaterThan(0);
  });

  it('REST and MCP calls in flight together are served in one batch by the one executor', async () => {
    await tool('embed', { texts: ['warm up'], model: 'batched-embedder' }); // load first: the batch below waits on nothing else
    const batches = async () => {
      s.app.deps.metrics.flush();
      const m = await s.app.deps.metrics.registry.getSingleMetric('batch_size')!.get();
      const v = (name: string) =>
        m.values.find((x) => (x as { metricName?: string }).metricName === name && x.labels.model === 'batched-embedder')?.value ?? 0;
      return { count: v('batch_size_count'), sum: v('batch_size_sum') };
    };
    const before = await batches();
    // A long batch first: while it runs, the next calls from both doors queue, then go as one batch.
    const long = Array.from({ length: 64 }, (_, i) => `${'a fairly long sentence about nothing in particular '.repeat(4)} ${i}`);
    const busy = tool('embed', { texts: long, model: 'batched-embedder' });
    await new Promise((r) => setTimeout(r, 20));
    const rest = Array.from({ length: 6 }, (_, i) =>
      post(s.base, '/v1/embeddings', { model: 'batched-embedder', input: `rest text ${i}` }),
    );
    const mcp = Array.from({ length: 6 }, (_, i) => tool('embed', { texts: [`mcp text ${i}`], model: 'batched-embedder' }));
    const [r, m] = await Promise.all([Promise.all(rest), Promise.all(mcp), busy]);
    expect(r.every((x) => x.status === 200)).toBe(true);
    expect(m).toHaveLength(6);
    const after = await batches();
    expect(after.sum - before.sum).toBe(64 + 12);
    expect(after.count - before.count).toBe(2); // the long batch, then all twelve texts from both doors in one
  });

  it('/openapi.json is a valid OpenAPI 3.1 document listing every route', async () => {
    const doc = (await (await fetch(`${s.base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result).slice(0, 2000)).toBe(true);
    for (const p of [
      '/v1/embeddings',
      '/v1/chat/completions',
      '/v1/completions',
      '/v1/audio/transcriptions',
      '/v1/models',
      '/v1/models/{model}',
      '/embed',
      '/rerank',
      '/predict',
      '/info',
      '/v1/embed',
      '/v1/ocr',
      '/v1/infer/{model}',
      '/v1/hardware',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
  });
});
