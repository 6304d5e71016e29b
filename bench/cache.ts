/**
 * @module bench/cache
 * The response cache on a repeated-input workload: 50 distinct sentences, each embedded 10
 * times (500 calls, 16 in flight) through a real MCP client over HTTP on the generated
 * `minilm-l6`, with the cache on and off (`--cache-size 0`), same inputs. Reports the server's
 * own `cache_hit_ratio` (from /metrics) and the speedup. Run: `npm run bench -- cache`.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ensureModel } from '../tools/modelgen/cache.js';
import { startHttpServer } from './http-server.js';

async function run(modelsDir: string, cacheSize: string): Promise<{ seconds: number; hitRatio: number }> {
  const server = await startHttpServer(['--offline', '--models-dir', modelsDir, '--threads', '1', '--cache-size', cacheSize]);
  const client = new Client({ name: 'cache-bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  await client.callTool({ name: 'embed', arguments: { texts: ['warm up the model'] }, _meta: { cache: false } });
  const calls = Array.from({ length: 500 }, (_, i) => `distinct sentence number ${i % 50} about the weather and models`);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < calls.length) await client.callTool({ name: 'embed', arguments: { texts: [calls[next++]!] } });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const metrics = await (await fetch(server.url.replace('/mcp', '/metrics'))).text();
  const hitRatio = Number(/^cache_hit_ratio (\S+)$/m.exec(metrics)?.[1] ?? 0);
  await client.close();
  await server.stop();
  return { seconds, hitRatio };
}

export async function benchCache(): Promise<Record<string, number>> {
  const modelsDir = mkdtempSync(join(tmpdir(), 'cache-models-'));
  mkdirSync(join(modelsDir, 'Xenova'));
  symlinkSync(ensureModel({ arch: 'bert', size: 'minilm-l6' }), join(modelsDir, 'Xenova', 'all-MiniLM-L6-v2'));
  const off = await run(modelsDir, '0');
  const on = await run(modelsDir, '64MB');
  return {
    calls: 500,
    distinct_inputs: 50,
    uncached_s: off.seconds,
    cached_s: on.seconds,
    speedup: off.seconds / on.seconds,
    cache_hit_ratio: on.hitRatio,
  };
}
