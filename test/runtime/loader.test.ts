/**
 * Loader unit tests on the fake backend: LRU eviction order, the in-flight guard, the budget,
 * load dedupe, failed loads not cached, keep-alive and pinning (fake timers), device fallback.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { makeConfig } from '../../src/config/config.js';
import { ModelLoader } from '../../src/runtime/loader.js';
import { loadRegistry } from '../../src/skills/registry.js';
import { probeHardware, hostInputs } from '../../src/hardware/probe.js';
import type { Device } from '../../src/skills/schema.js';
import { FakeBackend, type FakeBackendOptions } from '../helpers/fake-backend.js';
import { makeSkillsDir } from '../helpers/server.js';

const MB = 1e6;

/** A model folder whose onnx/model.onnx has `bytes` bytes (sparse). */
function modelDir(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'hfms-fake-model-'));
  mkdirSync(join(dir, 'onnx'));
  writeFileSync(join(dir, 'config.json'), '{}');
  writeFileSync(join(dir, 'onnx', 'model.onnx'), '');
  truncateSync(join(dir, 'onnx', 'model.onnx'), bytes);
  return dir;
}

function setup(opts: {
  budget: number;
  sizes: Record<string, number>;
  keepAliveMs?: number;
  pin?: string[];
  backend?: FakeBackendOptions;
  usable?: Device[];
  encoder?: { threads: number; replicas: number };
}) {
  const dirs: Record<string, string> = {};
  const skills: Record<string, unknown> = {};
  for (const [name, size] of Object.entries(opts.sizes)) {
    dirs[name] = modelDir(size);
    skills[`${name}.json`] = {
      name,
      family: 'bert',
      architecture: 'encoder-only',
      tasks: ['feature-extraction'],
      description: name,
      model: { id: dirs[name] },
    };
  }
  const registry = loadRegistry({ builtinDir: null, userDirs: [makeSkillsDir(skills)] });
  const backend = new FakeBackend(opts.backend);
  const hardware = probeHardware(hostInputs());
  if (opts.usable) hardware.runtime.usable = opts.usable;
  const config = makeConfig({ memoryBudget: opts.budget, keepAliveMs: opts.keepAliveMs ?? -1, pin: opts.pin ?? [] });
  const loader = new ModelLoader({
    config,
    registry,
    backend,
    hardware,
    logger: pino({ level: 'silent' }),
    rss: () => 0,
    threads: 4,
    ...(opts.encoder ? { encoder: opts.encoder } : {}),
  });
  return { loader, backend, dirs };
}

const use = async (loader: ModelLoader, name: string) => (await loader.acquire(name, 'feature-extraction')).release();
const loadedNames = (loader: ModelLoader) =>
  loader
    .list()
    .map((m) => m.model)
    .sort();

afterEach(() => vi.useRealTimers());

describe('ModelLoader', () => {
  it('evicts the least recently used idle model to fit a new one', async () => {
    const { loader, backend } = setup({ budget: 250 * MB, sizes: { a: 100 * MB, b: 100 * MB, c: 100 * MB } });
    await use(loader, 'a');
    await use(loader, 'b');
    await use(loader, 'a'); // b is now least recently used
    await use(loader, 'c');
    expect(loadedNames(loader)).toEqual(['a', 'c']);
    expect(backend.maxLoaded).toBe(2);
    expect(loader.used).toBeLessThanOrEqual(250 * MB);
    expect(loader.list().find((m) => m.model === 'a')!.sizedBy).toBe('files');
  });

  it('text-encoder replicas: loaded with the encoder threads and count, and budgeted once per replica', async () => {
    const { loader, backend } = setup({
      budget: 350 * MB,
      sizes: { a: 100 * MB, b: 100 * MB },
      encoder: { threads: 2, replicas: 2 },
    });
    await use(loader, 'a');
    expect(backend.requests[0]).toMatchObject({ threads: 2, replicas: 2 });
    expect(loader.list().find((m) => m.model === 'a')!.bytes).toBe(200 * MB);
    await use(loader, 'b'); // 200 + 200 MB does not fit in 350: a goes
    expect(loadedNames(loader)).toEqual(['b']);
  });

  it('never evicts a model with work in flight; waits for a lease to end when all are busy', async () => {
    const { loader } = setup({ budget: 250 * MB, sizes: { a: 100 * MB, b: 100 * MB, c: 100 * MB } });
    const leaseA = await loader.acquire('a', 'feature-extraction');
    await use(loader, 'b');
    await use(loader, 'c'); // must evict b, not the busy a
    expect(loadedNames(loader)).toEqual(['a', 'c']);
    const leaseC = await loader.acquire('c', 'feature-extraction');
    let bLoaded = false;
    const pending = loader.acquire('b', 'feature-extraction').then((l) => {
      bLoaded = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(bLoaded).toBe(false); // a and c are both busy
    leaseA.release();
    const leaseB = await pending;
    expect(loadedNames(loader)).toEqual(['b', 'c']);
    leaseB.release();
    leaseC.release();
  });

  it('a shared load goes on when its first caller gives up, and stops only when every caller has', async () => {
    const { loader, backend } = setup({ budget: 150 * MB, sizes: { a: 100 * MB, b: 100 * MB } });
    const leaseA = await loader.acquire('a', 'feature-extraction');
    // b's load waits for room (a is busy); two callers wait on it, the first with a signal.
    const first = new AbortController();
    const firstCall = loader.acquire('b', 'feature-extraction', undefined, first.signal);
    const second = loader.acquire('b', 'feature-extraction');
    first.abort();
    await expect(firstCall).rejects.toMatchObject({ code: 'cancelled' });
    expect(loader.status('b').status).toBe('loading');
    leaseA.release();
    const leaseB = await second;
    expect(loadedNames(loader)).toEqual(['b']);
    leaseB.release();
    const loadsBefore = backend.loads.length;

    // When every waiting caller gives up, the load stops and nothing stays reserved.
    const holdB = await loader.acquire('b', 'feature-extraction');
    const x = new AbortController();
    const y = new AbortController();
    const p1 = loader.acquire('a', 'feature-extraction', undefined, x.signal);
    const p2 = loader.acquire('a', 'feature-extraction', undefined, y.signal);
    x.abort();
    y.abort();
    await expect(p1).rejects.toMatchObject({ code: 'cancelled' });
    await expect(p2).rejects.toMatchObject({ code: 'cancelled' });
    await expect.poll(() => loader.status('a').status).not.toBe('loading');
    expect(backend.loads.length).toBe(loadsBefore);
    holdB.release();
    await use(loader, 'a');
    expect(loadedNames(loader)).toEqual(['a']);
  });

  it('refuses a model larger than the whole budget', async () => {
    const { loader } = setup({ budget: 50 * MB, sizes: { big: 80 * MB } });
    await expect(loader.acquire('big', 'feature-extraction')).rejects.toMatchObject({ code: 'insufficient_memory' });
    expect(loader.status('big').status).toBe('failed');
  });

  it('dedupes concurrent loads of one model', async () => {
    const { loader, backend } = setup({ budget: 1000 * MB, sizes: { a: 10 * MB }, backend: { loadDelayMs: 20 } });
    const leases = await Promise.all(Array.from({ length: 5 }, () => loader.acquire('a', 'feature-extraction')));
    expect(backend.loads).toHaveLength(1);
    expect(loader.list()[0]!.inFlight).toBe(5);
    leases.forEach((l) => l.release());
    expect(loader.list()[0]!.inFlight).toBe(0);
  });

  it('does not cache a failed load', async () => {
    const { loader, backend, dirs } = setup({ budget: 1000 * MB, sizes: { a: 10 * MB }, backend: { failLoad: new Set() } });
    (backend as unknown as { o: FakeBackendOptions }).o.failLoad!.add(dirs.a!);
    await expect(use(loader, 'a')).rejects.toMatchObject({ code: 'model_load_failed' });
    expect(loader.status('a')).toMatchObject({ status: 'failed' });
    (backend as unknown as { o: FakeBackendOptions }).o.failLoad!.clear();
    await use(loader, 'a');
    expect(loader.status('a').status).toBe('loaded');
  });

  it('unloads after keep-alive, but not pinned models (fake timers)', async () => {
    vi.useFakeTimers();
    const { loader, backend } = setup({ budget: 1000 * MB, sizes: { a: 10 * MB, p: 10 * MB }, keepAliveMs: 60_000, pin: ['p'] });
    await use(loader, 'a');
    await use(loader, 'p');
    await vi.advanceTimersByTimeAsync(59_999);
    expect(loadedNames(loader)).toEqual(['a', 'p']);
    await vi.advanceTimersByTimeAsync(1);
    expect(loadedNames(loader)).toEqual(['p']);
    expect(backend.disposed).toHaveLength(1);
    // A new use restarts the clock.
    await use(loader, 'a');
    await vi.advanceTimersByTimeAsync(30_000);
    await use(loader, 'a');
    await vi.advanceTimersByTimeAsync(59_000);
    expect(loadedNames(loader)).toEqual(['a', 'p']);
  });

  it('unload defers while work is in flight', async () => {
    const { loader, backend } = setup({ budget: 1000 * MB, sizes: { a: 10 * MB } });
    const lease = await loader.acquire('a', 'feature-extraction');
    expect(await loader.unload('a')).toBe('deferred');
    expect(backend.disposed).toHaveLength(0);
    lease.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.disposed).toHaveLength(1);
    expect(await loader.unload('a')).toBe('not_loaded');
  });

  it('falls back to the next device when session creation fails', async () => {
    const { loader, backend } = setup({
      budget: 1000 * MB,
      sizes: { a: 10 * MB },
      backend: { devices: ['cuda', 'cpu'], failDevices: new Set(['cuda']) },
      usable: ['cuda', 'cpu'],
    });
    await use(loader, 'a');
    expect(loader.list()[0]!.device).toBe('cpu');
    expect(backend.loads[0]).toMatch(/@cpu$/);
  });
});
