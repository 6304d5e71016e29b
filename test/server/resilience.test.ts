/**
 * Circuit breaker and response cache through a real MCP client (fake backend, so failures can
 * be injected): a failing model opens its breaker and fails fast with a retry hint while other
 * models keep answering, then recovers after a half-open probe; deterministic calls are served
 * from the cache (with an opt-out), and both show up in /metrics-style gauges and hf://models.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { makeConfig } from '../../src/config/config.js';
import { FakeBackend, fakeModelDir } from '../helpers/fake-backend.js';
import { connectInMemory, errorOf, makeSkillsDir } from '../helpers/server.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function start(cfg: Parameters<typeof makeConfig>[0]) {
  const skill = (name: string, task: string) => ({
    name,
    family: 'bert',
    architecture: 'encoder-only',
    tasks: [task],
    description: name,
    model: { id: fakeModelDir() },
  });
  const skills = makeSkillsDir({
    'a.json': skill('embed-a', 'feature-extraction'),
    'b.json': skill('embed-b', 'feature-extraction'),
    'g.json': skill('gen', 'text-generation'),
  });
  const backend = new FakeBackend({ poison: 'POISON' });
  const app: App = createApp(makeConfig({ skillsDirs: [skills], ...cfg }), {
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

const gauge = async (app: App, name: string) => (await app.deps.metrics.registry.getSingleMetric(name)!.get()).values;

describe('circuit breaker', () => {
  it('opens after repeated failures, fails fast with a retry hint, spares other models, and recovers', async () => {
    const { client, app } = await start({ cacheBytes: 0, breakerResetMs: 300 });
    const embed = (model: string, text: string) => client.callTool({ name: 'embed', arguments: { model, texts: [text] } });
    expect((await embed('embed-a', 'fine')).isError).toBeFalsy();
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push(errorOf((await embed('embed-a', 'POISON')) as never).code);
    // Real failures first; once the window holds enough of them (5 calls, >= 50% failing), it opens.
    expect(codes.slice(0, 4)).toEqual(Array(4).fill('inference_failed'));
    expect(codes.at(-1)).toBe('model_unavailable');
    const fast = errorOf((await embed('embed-a', 'fine again')) as never) as { code: string; retryable: boolean; retry_after_ms?: number };
    expect(fast).toMatchObject({ code: 'model_unavailable', retryable: true });
    expect(fast.retry_after_ms).toBeGreaterThan(0);
    expect((await embed('embed-b', 'fine')).isError).toBeFalsy(); // other models keep answering
    const models = JSON.parse(((await client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text);
    expect(models.skills.find((s: { name: string }) => s.name === 'embed-a').circuit_breaker).toBe('open');
    expect((await gauge(app, 'circuit_breaker_state')).find((v) => v.labels.model === 'embed-a')?.value).toBe(2);
    await new Promise((r) => setTimeout(r, 350));
    expect((await embed('embed-a', 'probe')).isError).toBeFalsy(); // half-open probe succeeds
    expect(app.deps.breakers.state('embed-a')).toBe('closed');
  });

  it('bad input does not count against a model', async () => {
    const { client, app } = await start({ cacheBytes: 0 });
    for (let i = 0; i < 8; i++) await client.callTool({ name: 'embed', arguments: { model: 'embed-a', texts: [''] } });
    expect(app.deps.breakers.state('embed-a')).toBe('closed');
  });
});

describe('response cache', () => {
  it('serves repeated deterministic calls from the cache, with an opt-out and a hit ratio', async () => {
    const { client, backend, app } = await start({ cacheBytes: 1e6 });
    const call = (meta?: Record<string, unknown>) =>
      client.callTool({ name: 'embed', arguments: { model: 'embed-a', texts: ['same text'] }, ...(meta ? { _meta: meta } : {}) });
    const first = await call();
    const second = await call();
    expect(second.structuredContent).toEqual(first.structuredContent);
    expect(backend.calls).toHaveLength(1);
    await call({ cache: false });
    expect(backend.calls).toHaveLength(2);
    expect(app.deps.cache.hitRatio).toBeCloseTo(0.5, 5);
    expect((await gauge(app, 'cache_hit_ratio'))[0]!.value).toBeCloseTo(0.5, 5);
    // Different arguments are different entries; argument order does not matter.
    await client.callTool({ name: 'embed', arguments: { texts: ['same text'], model: 'embed-a', normalize: true } });
    expect(backend.calls).toHaveLength(2);
    await client.callTool({ name: 'embed', arguments: { model: 'embed-a', texts: ['same text'], normalize: false } });
    expect(backend.calls).toHaveLength(3);
  });

  it('caches greedy and seeded generation, never unseeded sampling', async () => {
    const { client, backend } = await start({ cacheBytes: 1e6 });
    const gen = (extra: Record<string, unknown>) =>
      client.callTool({ name: 'generate', arguments: { model: 'gen', prompt: 'hi', max_new_tokens: 3, ...extra } });
    await gen({});
    await gen({});
    expect(backend.calls).toHaveLength(1);
    await gen({ do_sample: true, seed: 3 });
    await gen({ do_sample: true, seed: 3 });
    expect(backend.calls).toHaveLength(2);
    await gen({ do_sample: true });
    await gen({ do_sample: true });
    expect(backend.calls).toHaveLength(4);
  });
});
