/**
 * @module bench/soak
 * Soak and load over streamable HTTP on loopback: the built server on generated tiny models,
 * 8 sessions x 8 concurrent calls (64 in flight), mixed tools with some invalid calls, until
 * SOAK_REQUESTS (default 20,000) complete or SOAK_SECONDS (default 300) pass. Counts every
 * outcome: expected results, expected invalid_input errors, documented overload/rate-limit
 * rejections, and anything else as unexpected. Reports p50/p99 latency and the server's RSS
 * after each half. Run: `npm run bench -- soak`.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ensureModel } from '../tools/modelgen/cache.js';
import { startHttpServer } from './http-server.js';

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 20_000);
const MAX_S = Number(process.env.SOAK_SECONDS ?? 300);
const SESSIONS = 8;
const PER_SESSION = 8;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;

/** The mix: [weight, tool, args, expected error code or null]. */
function mix(i: number): [string, Record<string, unknown>, string | null] {
  const k = i % 20;
  const t = `sentence ${i % 500} about weather, models and agents`;
  if (k < 6) return ['similarity', { query: t, documents: ['the weather today', 'a model server', `doc ${i % 7}`] }, null];
  if (k < 10) return ['embed', { texts: [t, `${t} again`], encoding: k % 2 ? 'base64' : 'float' }, null];
  if (k < 13) return ['classify', { texts: [t], top_k: 2 }, null];
  if (k < 16) return ['generate', { model: 'distilgpt2', prompt: t, max_new_tokens: 4 }, null];
  if (k < 17) return ['embed', { texts: [] }, 'invalid_input'];
  if (k < 18) return ['classify', { text: 'a', texts: ['b'] }, 'invalid_input'];
  if (k < 19) return ['generate', { model: 'distilgpt2', prompt: t, max_new_tokens: 0 }, 'invalid_input'];
  return ['embed', { texts: [t], model: 'no-such-model' }, 'unknown_model'];
}

export async function benchSoak(): Promise<Record<string, number>> {
  const modelsDir = mkdtempSync(join(tmpdir(), 'soak-models-'));
  for (const [id, spec] of [
    ['Xenova/all-MiniLM-L6-v2', { arch: 'bert' }],
    ['Xenova/distilbert-base-uncased-finetuned-sst-2-english', { arch: 'bert-classifier' }],
    ['Xenova/distilgpt2', { arch: 'gpt2' }],
  ] as const) {
    mkdirSync(dirname(join(modelsDir, id)), { recursive: true });
    symlinkSync(ensureModel(spec), join(modelsDir, id));
  }
  const server = await startHttpServer(['--offline', '--models-dir', modelsDir, '--threads', '1']);
  const url = server.url;
  const clients = await Promise.all(
    Array.from({ length: SESSIONS }, async () => {
      const c = new Client({ name: 'soak', version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(url)));
      return c;
    }),
  );
  const counts = { ok: 0, expected_errors: 0, overload_or_rate_limited: 0, unexpected: 0 };
  const unexpected: string[] = [];
  const lat: number[] = [];
  let next = 0;
  let rssHalf = 0;
  const start = performance.now();
  const end = start + MAX_S * 1000;
  const worker = async (c: Client) => {
    while (performance.now() < end) {
      const i = next++;
      if (i >= TOTAL) return;
      if (i === Math.floor(TOTAL / 2)) rssHalf = rssOf(server.pid);
      const [tool, args, expected] = mix(i);
      const t0 = performance.now();
      try {
        const r = await c.callTool({ name: tool, arguments: args });
        lat.push(performance.now() - t0);
        if (!r.isError) {
          if (expected) {
            counts.unexpected++;
            unexpected.push(`${tool}: expected ${expected}, got a result`);
          } else counts.ok++;
          continue;
        }
        const code = JSON.parse((r.content as Array<{ text: string }>)[0]!.text).error.code as string;
        if (code === expected) counts.expected_errors++;
        else if (code === 'overloaded' || code === 'rate_limited') counts.overload_or_rate_limited++;
        else {
          counts.unexpected++;
          unexpected.push(`${tool}: ${code}`);
        }
      } catch (e) {
        counts.unexpected++;
        unexpected.push(`${tool}: threw ${(e as Error).message.slice(0, 100)}`);
      }
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: PER_SESSION }, () => worker(c))));
  const seconds = (performance.now() - start) / 1000;
  const rssEnd = rssOf(server.pid);
  for (const c of clients) await c.close();
  const code = await server.stop();
  if (unexpected.length) process.stderr.write(`unexpected (first 10): ${unexpected.slice(0, 10).join(' | ')}\n`);
  return {
    requests: lat.length,
    seconds,
    requests_per_s: lat.length / seconds,
    ok: counts.ok,
    expected_invalid: counts.expected_errors,
    overload_or_rate_limited: counts.overload_or_rate_limited,
    unexpected_errors: counts.unexpected,
    p50_ms: pct(lat, 0.5),
    p99_ms: pct(lat, 0.99),
    rss_after_first_half_mb: rssHalf / 1e6,
    rss_after_second_half_mb: rssEnd / 1e6,
    rss_growth_second_half: rssEnd / rssHalf - 1,
    exit_code_after_sigterm: code,
  };
}
