/**
 * The engine through a real MCP client: cancellation removes queued work, overload is a
 * retryable error with a retry hint, priorities order queued work, and loads report progress.
 * Uses the deterministic fake backend so timing is controlled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createApp, type App } from '../../src/app.js';
import { makeConfig } from '../../src/config/config.js';
import { FakeBackend, fakeSkill, type FakeBackendOptions } from '../helpers/fake-backend.js';
import { connectInMemory, errorOf, makeSkillsDir } from '../helpers/server.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function start(backendOpts: FakeBackendOptions, cfg: Parameters<typeof makeConfig>[0] = {}) {
  const skills = makeSkillsDir({
    'e.json': fakeSkill('fake-embed', 'feature-extraction', { batch: { max_batch_size: 4, max_batch_tokens: 10000, max_wait_ms: 0 } }),
  });
  const backend = new FakeBackend(backendOpts);
  const app: App = createApp(makeConfig({ skillsDirs: [skills], cacheBytes: 0, ...cfg }), {
    logger: pino({ level: 'silent' }),
    backend,
    builtinSkillsDir: null,
  });
  const { client, close } = await connectInMemory(app);
  cleanup.push(async () => {
    await close();
    await app.close();
  });
  return { client, backend, app };
}

const embed = (client: Client, text: string, opts: { signal?: AbortSignal; priority?: string } = {}) =>
  client.callTool(
    { name: 'embed', arguments: { texts: [text] }, ...(opts.priority ? { _meta: { priority: opts.priority } } : {}) },
    undefined,
    opts.signal ? { signal: opts.signal } : {},
  );

describe('engine through MCP', () => {
  it('a cancelled request is removed from the queue before it runs', async () => {
    const { client, backend } = await start({ runDelayMs: 50 });
    await embed(client, 'warm');
    const first = embed(client, 'running');
    const ac = new AbortController();
    const cancelled = embed(client, 'never-run', { signal: ac.signal });
    const kept = embed(client, 'kept');
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await expect(cancelled).rejects.toThrow();
    await first;
    expect((await kept).isError).toBeFalsy();
    const ran = backend.calls.flatMap((c) => (c.input.task === 'feature-extraction' ? c.input.texts : []));
    expect(ran).toContain('kept');
    expect(ran).not.toContain('never-run');
  });

  it('past the queue bound, requests get a retryable overloaded error with a retry hint', async () => {
    const { client } = await start({ runDelayMs: 30 }, { maxQueue: 3, limits: { maxTexts: 3 } });
    await embed(client, 'warm');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => embed(client, `t${i}`)));
    const errors = results.filter((r) => r.isError).map((r) => errorOf(r as never));
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e.code).toBe('overloaded');
      expect(e.retryable).toBe(true);
      expect((e as { retry_after_ms?: number }).retry_after_ms).toBeGreaterThan(0);
    }
    expect(results.filter((r) => !r.isError).length).toBeGreaterThanOrEqual(4);
    expect((await embed(client, 'after')).isError).toBeFalsy();
  });

  it('high priority requests run before queued normal and low ones', async () => {
    const { client, backend } = await start({ runDelayMs: 40 });
    await embed(client, 'warm');
    const running = embed(client, 'running');
    await new Promise((r) => setTimeout(r, 5));
    const calls = [embed(client, 'low-1', { priority: 'low' }), embed(client, 'normal-1'), embed(client, 'high-1', { priority: 'high' })];
    await Promise.all([running, ...calls]);
    const batches = backend.calls.filter((c) => c.input.task === 'feature-extraction').map((c) => (c.input as { texts: string[] }).texts);
    const next = batches[batches.findIndex((t) => t.includes('running')) + 1]!;
    expect(next).toEqual(['high-1', 'normal-1', 'low-1']);
  });

  it('batches concurrent single-text requests into one backend call', async () => {
    const { client, backend } = await start({ runDelayMs: 20 });
    await embed(client, 'warm');
    const first = embed(client, 'first');
    await new Promise((r) => setTimeout(r, 2));
    await Promise.all([first, ...['a', 'b', 'c', 'd', 'e'].map((t) => embed(client, t))]);
    const sizes = backend.calls.map((c) => (c.input as { texts: string[] }).texts.length);
    expect(Math.max(...sizes)).toBe(4); // bounded by max_batch_size
  });

  it('load_model reports load progress notifications', async () => {
    const { client } = await start({ loadDelayMs: 5 });
    const progress: Array<{ progress: number; message?: string }> = [];
    const r = await client.callTool({ name: 'load_model', arguments: { model: 'fake-embed' } }, undefined, {
      onprogress: (p) => progress.push(p),
    });
    expect(r.isError).toBeFalsy();
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!.message).toMatch(/loading model/);
  });
});
