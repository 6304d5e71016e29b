/**
 * Fault injection: deadlines, generation time limits, clients that abort or disconnect, model
 * files deleted or corrupted after load, a budget too small, a failed preload. Each gives the
 * documented error or recovery, other models keep answering, and the server stays up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { makeConfig } from '../../src/config/config.js';
import { startHttp } from '../../src/transports/http/server.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { FakeBackend, fakeSkill } from '../helpers/fake-backend.js';
import { connectInMemory, errorOf, makeSkillsDir, startServer, type Harness } from '../helpers/server.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function fakeApp(cfg: Parameters<typeof makeConfig>[0], runDelayMs: number) {
  const skills = makeSkillsDir({
    'a.json': fakeSkill('slow', 'feature-extraction', { batch: { max_batch_size: 1, max_batch_tokens: 1000, max_wait_ms: 0 } }),
    'b.json': fakeSkill('other', 'feature-extraction'),
  });
  const backend = new FakeBackend({ runDelayMs });
  const app: App = createApp(makeConfig({ skillsDirs: [skills], cacheBytes: 0, ...cfg }), {
    logger: pino({ level: 'silent' }),
    backend,
    builtinSkillsDir: null,
  });
  cleanup.push(() => app.close());
  return { app, backend };
}

async function inMemory(app: App) {
  const { client, close } = await connectInMemory(app);
  cleanup.push(close);
  return client;
}

const textsRan = (backend: FakeBackend) => backend.calls.flatMap((c) => (c.input.task === 'feature-extraction' ? c.input.texts : []));

describe('deadlines and vanished clients', () => {
  it('a call past its deadline gets the retryable timeout error and its queued work is dropped', async () => {
    const { app, backend } = await fakeApp({}, 150);
    const client = await inMemory(app);
    await client.callTool({ name: 'embed', arguments: { model: 'slow', texts: ['warm'] } });
    const busy = client.callTool({ name: 'embed', arguments: { model: 'slow', texts: ['busy'] } });
    const late = await client.callTool({
      name: 'embed',
      arguments: { model: 'slow', texts: ['queued-too-long'] },
      _meta: { timeout_ms: 40 },
    });
    expect(errorOf(late as never)).toMatchObject({ code: 'timeout', retryable: true });
    await busy;
    await new Promise((r) => setTimeout(r, 200));
    expect(textsRan(backend)).not.toContain('queued-too-long');
    expect((await client.callTool({ name: 'embed', arguments: { model: 'other', texts: ['fine'] } })).isError).toBeFalsy();
  });

  it('an HTTP client that disconnects has its queued work dropped', async () => {
    const { app, backend } = await fakeApp({ transport: 'http', port: 0 }, 150);
    const http = await startHttp(app);
    cleanup.push(() => http.close(0));
    const post = (body: unknown, sid?: string, signal?: AbortSignal) =>
      fetch(http.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(sid ? { 'mcp-session-id': sid } : {}),
        },
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    const init = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    const sid = init.headers.get('mcp-session-id')!;
    await init.text();
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
    const call = (id: number, text: string, signal?: AbortSignal) =>
      post(
        { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'embed', arguments: { model: 'slow', texts: [text] } } },
        sid,
        signal,
      );
    await (await call(2, 'warm')).text();
    const busy = call(3, 'busy').then((r) => r.text());
    await new Promise((r) => setTimeout(r, 20));
    const ac = new AbortController();
    const gone = call(4, 'from-a-client-that-left', ac.signal).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await gone;
    await busy;
    await new Promise((r) => setTimeout(r, 250));
    expect(textsRan(backend)).not.toContain('from-a-client-that-left');
    expect(await (await call(5, 'after')).text()).toContain('embeddings');
  });
});

describe('generation limits and aborts (generated GPT-2)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('max_time stops between tokens and returns what was generated', async () => {
    h = await startServer();
    await h.call('generate', { model: 'distilgpt2', prompt: 'warm', max_new_tokens: 2 });
    const r = await h.call('generate', {
      model: 'distilgpt2',
      prompt: 'Hello',
      max_new_tokens: 100,
      max_time: 0.001,
      return_token_ids: true,
    });
    const out = r.structuredContent as { finish_reason: string; token_ids: number[] };
    expect(out.finish_reason).toBe('max_time');
    expect(out.token_ids.length).toBeLessThan(100);
  });

  it('a client aborting mid-generation stops it; the slot is freed and the server answers next', async () => {
    h = await startServer({ maxConcurrency: 1 });
    const ac = new AbortController();
    let pieces = 0;
    const aborted = h.client
      .callTool({ name: 'generate', arguments: { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 110 } }, undefined, {
        signal: ac.signal,
        onprogress: () => {
          if (++pieces === 2) ac.abort();
        },
      })
      .catch((e: Error) => e);
    expect(await aborted).toBeInstanceOf(Error);
    const next = await h.call('generate', { model: 'distilgpt2', prompt: 'Again', max_new_tokens: 3 });
    expect(next.isError).toBeFalsy();
  });
});

describe('model files and memory', () => {
  function skillFor(name: string, dir: string) {
    return {
      [`${name}.json`]: {
        name,
        family: 'bert',
        architecture: 'encoder-only',
        tasks: ['feature-extraction'],
        description: name,
        model: { id: dir },
      },
    };
  }

  it('deleted or corrupted after load: keeps serving from memory; a reload reports the fault; others unaffected', async () => {
    const deleted = join(mkdtempSync(join(tmpdir(), 'hfms-del-')), 'm');
    const corrupted = join(mkdtempSync(join(tmpdir(), 'hfms-cor-')), 'm');
    cpSync(ensureModel({ arch: 'bert' }), deleted, { recursive: true });
    cpSync(ensureModel({ arch: 'bert' }), corrupted, { recursive: true });
    h = await startServer({ skillsDirs: [makeSkillsDir({ ...skillFor('doomed', deleted), ...skillFor('corrupt-later', corrupted) })] });
    for (const m of ['doomed', 'corrupt-later']) expect((await h.call('embed', { model: m, texts: ['a'] })).isError).toBeFalsy();
    rmSync(deleted, { recursive: true, force: true });
    writeFileSync(join(corrupted, 'onnx', 'model.onnx'), 'garbage');
    for (const m of ['doomed', 'corrupt-later']) expect((await h.call('embed', { model: m, texts: ['still here'] })).isError).toBeFalsy();
    for (const m of ['doomed', 'corrupt-later']) await h.call('unload_model', { model: m });
    expect(errorOf(await h.call('embed', { model: 'doomed', texts: ['a'] })).code).toBe('model_not_found');
    expect(errorOf(await h.call('embed', { model: 'corrupt-later', texts: ['a'] })).code).toBe('model_load_failed');
    expect((await h.call('similarity', { query: 'a', documents: ['a', 'b'] })).isError).toBeFalsy();
  });
  let h: Harness;
  afterEach(async () => h?.close());

  it('a budget too small for a model: insufficient_memory, and smaller models still load', async () => {
    h = await startServer({ memoryBudget: 20e6 });
    expect(errorOf(await h.call('embed', { texts: ['a'] })).code).toBe('insufficient_memory'); // MiniLM-L6 is ~90 MB
    expect((await h.call('classify', { text: 'fine' })).isError).toBeFalsy(); // tiny classifier fits
  });

  it('a failed preload leaves the server up and the skill marked failed with its reason', async () => {
    h = await startServer({ preload: ['broken-embedder', 'distilbert-sst2'] });
    // Wait for both preloads to settle (however long loading takes on a busy machine), not a fixed time.
    const settled = (name: string) => !['loading', 'available'].includes(h.app.deps.loader.status(name).status);
    for (let t0 = Date.now(); !(settled('broken-embedder') && settled('distilbert-sst2')) && Date.now() - t0 < 30_000;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const models = JSON.parse(((await h.client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text);
    const broken = models.skills.find((s: { name: string }) => s.name === 'broken-embedder');
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(/model_load_failed/);
    expect(models.skills.find((s: { name: string }) => s.name === 'distilbert-sst2').status).toBe('loaded');
    expect((await h.call('classify', { text: 'still serving' })).isError).toBeFalsy();
  });
});
