/**
 * Integration: four generated MiniLM-shaped models (different seeds) cycled through the MCP
 * server under a memory budget that fits two. At most two are ever loaded, and every result
 * equals the transformers.js pipeline's on that model. Also: dispose returns memory.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { pipeline } from '@huggingface/transformers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createApp } from '../../src/app.js';
import { TransformersBackend } from '../../src/backends/transformers.js';
import type { Backend, LoadRequest } from '../../src/backends/types.js';
import { makeConfig } from '../../src/config/config.js';
import { createServer } from '../../src/mcp/server.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { CPU } from '../helpers/offline.js';
import { makeSkillsDir } from '../helpers/server.js';

const SEEDS = [11, 12, 13, 14];
const TEXTS = ['The weather is nice today.', 'A model server lets agents use local models.'];

/** Counts live sessions of the real backend. */
class CountingBackend implements Backend {
  live = 0;
  maxLive = 0;
  constructor(private readonly inner: TransformersBackend) {}
  get name() {
    return this.inner.name;
  }
  get tasks() {
    return this.inner.tasks;
  }
  get devices() {
    return this.inner.devices;
  }
  async load(req: LoadRequest) {
    const h = await this.inner.load(req);
    this.maxLive = Math.max(this.maxLive, ++this.live);
    return { ...h, run: h.run, dispose: async () => (this.live--, h.dispose()) };
  }
}

describe('4 MiniLM-shaped models under a budget that fits 2', () => {
  it('never holds more than 2, and every result is correct', async () => {
    const dirs = SEEDS.map((seed) => ensureModel({ arch: 'bert', size: 'minilm-l6', seed }));
    const refs: number[][][] = [];
    for (const d of dirs) {
      const p = await pipeline('feature-extraction', d, CPU);
      refs.push((await p(TEXTS, { pooling: 'mean', normalize: true })).tolist() as number[][]);
      await p.dispose();
    }
    const skills = Object.fromEntries(
      dirs.map((d, i) => [
        `m${i}.json`,
        {
          name: `mini-${i}`,
          family: 'bert',
          architecture: 'encoder-only',
          tasks: ['feature-extraction'],
          description: `seed ${SEEDS[i]}`,
          model: { id: d },
        },
      ]),
    );
    const fileBytes = statSync(join(dirs[0]!, 'onnx', 'model.onnx')).size;
    const config = makeConfig({
      offline: true,
      skillsDirs: [makeSkillsDir(skills)],
      threads: 1,
      memoryBudget: Math.floor(fileBytes * 2.5),
      keepAliveMs: -1,
      cacheBytes: 0,
    });
    const backend = new CountingBackend(new TransformersBackend({ offline: true, cacheDir: '/nonexistent', useFsCache: false }));
    const app = createApp(config, { logger: pino({ level: 'silent' }), backend, builtinSkillsDir: null, rss: () => 0 });
    const { server, close } = createServer(app.deps);
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'cycle', version: '1' });
    await server.connect(a);
    await client.connect(b);
    const check = async (i: number) => {
      const r = await client.callTool({ name: 'embed', arguments: { model: `mini-${i}`, texts: TEXTS } });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      const got = (r.structuredContent as { embeddings: number[][] }).embeddings;
      for (let t = 0; t < TEXTS.length; t++) expect(Math.max(...got[t]!.map((x, j) => Math.abs(x - refs[i]![t]![j]!)))).toBeLessThan(1e-5);
    };
    for (let round = 0; round < 2; round++) for (let i = 0; i < 4; i++) await check(i);
    await Promise.all([0, 1, 2, 3, 0, 2, 1, 3].map(check)); // concurrent: loads wait for leases to end
    expect(backend.maxLive).toBe(2);
    expect(app.deps.loader.list().length).toBeLessThanOrEqual(2);
    await client.close();
    await close();
    await app.close();
  });
});

describe('dispose', () => {
  it('really frees the sessions: RSS goes down after unload (child process)', () => {
    const dir = ensureModel({ arch: 'bert', size: 'minilm-l6' });
    const script = `
      import { TransformersBackend } from './src/backends/transformers.ts';
      const b = new TransformersBackend({ offline: true, cacheDir: '/nonexistent', useFsCache: false });
      const rss = () => process.memoryUsage().rss;
      const settle = async () => { for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 100)); } };
      const out = [];
      for (let i = 0; i < 8; i++) {
        const h = await b.load({ source: ${JSON.stringify(dir)}, revision: 'main', task: 'feature-extraction', device: 'cpu', threads: 1 });
        await h.run({ task: 'feature-extraction', texts: ['hello world'], pooling: 'mean', normalize: true });
        await settle();
        const loaded = rss();
        await h.dispose();
        await settle();
        out.push([loaded, rss()]);
      }
      process.stdout.write(JSON.stringify(out));
    `;
    // With glibc's default allocator settings, as the CLI runs by default (src/process/allocator.ts).
    const env = { ...process.env };
    for (const k of ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_ARENA_MAX']) delete env[k];
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: process.cwd(),
      env,
    });
    expect(r.status, r.stderr).toBe(0);
    const cycles = JSON.parse(r.stdout) as Array<[number, number]>;
    const fileBytes = statSync(join(dir, 'onnx', 'model.onnx')).size;
    for (const [loaded, unloaded] of cycles) expect(loaded - unloaded).toBeGreaterThan(0.3 * fileBytes);
    // No growth across load/unload cycles: glibc keeps part of each unloaded model for the next
    // load, so RSS settles within the first cycles; the last four cycles must not rise above the
    // first four by more than 30 MB (a model leaked per cycle would add about 90 MB each time).
    const peak = (xs: Array<[number, number]>) => Math.max(...xs.map(([, u]) => u));
    expect(peak(cycles.slice(4)) - peak(cycles.slice(0, 4))).toBeLessThan(30e6);
    console.info(`RSS loaded/unloaded (MB): ${cycles.map(([l, u]) => `${(l / 1e6).toFixed(0)}/${(u / 1e6).toFixed(0)}`).join(', ')}`);
  });
});
