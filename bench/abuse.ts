/**
 * @module bench/abuse
 * A bounded adversarial run: the built server over HTTP on loopback, with hostile clients beside
 * normal traffic for ABUSE_SECONDS (default 30). Hostile inputs: OCR on a FIFO inside an allowed
 * folder; a FLAC decompression bomb and a FLAC declaring 655,350 Hz; 25-megapixel PNGs of a few KB,
 * 16 at a time; a 20,000 x 10 strip; JSON-RPC batches of twice the rate limit;
 * prompts past the model's context and max_new_tokens far past it. Normal traffic (its own key)
 * runs similarity, generate and OCR on the shipped page, and /health is polled every 50 ms.
 * The hostile key also sends embedding batches of 2,048 texts. Normal traffic first runs alone for
 * a baseline (ABUSE_BASELINE_SECONDS, default 10), then beside the flood.
 * Reports the server's peak RSS (VmHWM) against its memory budget, /health latency, and the
 * normal traffic's success rate, throughput against its baseline and latency. Targets: peak
 * RSS < budget + 512 MB, /health p99 < 100 ms, zero normal errors. Run: `npm run bench -- abuse`
 * (ABUSE_SECONDS, ABUSE_ONLY=0,3 for some hostile loops, ABUSE_ARGS for extra server flags).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ensureModel } from '../tools/modelgen/cache.js';
import { flacBomb } from '../test/helpers/media.js';
import { startHttpServer } from './http-server.js';

const SECONDS = Number(process.env.ABUSE_SECONDS ?? 30);
const BASELINE_SECONDS = Number(process.env.ABUSE_BASELINE_SECONDS ?? 10);
const BUDGET = 1024 * 2 ** 20;
const NORMAL_KEY = 'normal-traffic-key';
const HOSTILE_KEY = 'hostile-traffic-key';
/** Messages per minute per key; normal traffic is paced well under it, hostile batches exceed it. */
const RATE_LIMIT = 600;
/** Normal calls per second per worker (three workers). */
const NORMAL_RATE = 1.5;

const procStatus = (pid: number, field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;

async function connect(url: string, key: string): Promise<Client> {
  const c = new Client({ name: 'abuse', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return c;
}

export async function benchAbuse(): Promise<Record<string, number>> {
  const modelsDir = mkdtempSync(join(tmpdir(), 'abuse-models-'));
  for (const [id, spec] of [
    ['Xenova/all-MiniLM-L6-v2', { arch: 'bert' }],
    ['Xenova/distilgpt2', { arch: 'gpt2' }],
  ] as const) {
    mkdirSync(dirname(join(modelsDir, id)), { recursive: true });
    symlinkSync(ensureModel(spec), join(modelsDir, id));
  }
  const allowed = mkdtempSync(join(tmpdir(), 'abuse-files-'));
  execFileSync('mkfifo', [join(allowed, 'fifo.png')]);
  const page = readFileSync('examples/ocr-page.png');
  writeFileSync(join(allowed, 'page.png'), page);
  const bigPng = (
    await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#fff' } })
      .png()
      .toBuffer()
  ).toString('base64');
  const strip = (
    await sharp({ create: { width: 20_000, height: 10, channels: 3, background: '#000' } })
      .png()
      .toBuffer()
  ).toString('base64');
  const bomb = flacBomb({ rate: 16000, frames: 20_000 }).toString('base64');
  const fastFlac = Buffer.from(readFileSync('test/fixtures/media/tone.flac'));
  fastFlac[18] = 655_350 >> 12;
  fastFlac[19] = (655_350 >> 4) & 0xff;
  fastFlac[20] = ((655_350 & 0x0f) << 4) | (fastFlac[20]! & 0x0f);

  const keys = join(allowed, 'keys');
  writeFileSync(keys, `${NORMAL_KEY}\n${HOSTILE_KEY}\n`);
  const server = await startHttpServer([
    '--offline',
    '--models-dir',
    modelsDir,
    '--allow-dir',
    allowed,
    '--memory-budget',
    String(BUDGET),
    '--api-key-file',
    keys,
    '--rate-limit',
    String(RATE_LIMIT),
    '--cache-size',
    '0',
    ...(process.env.ABUSE_ARGS ?? '').split(' ').filter(Boolean),
  ]);
  const base = server.url.replace(/\/mcp$/, '');

  // Normal traffic: its own key and sessions, paced, three clients.
  const normalClients = await Promise.all([0, 1, 2].map(() => connect(server.url, NORMAL_KEY)));
  const normalCalls: Array<[string, Record<string, unknown>]> = [
    ['similarity', { query: 'weather today', documents: ['sunny and warm', 'a model server', 'rain later'] }],
    ['generate', { model: 'distilgpt2', prompt: 'Hello there', max_new_tokens: 8 }],
    ['ocr', { image: join(allowed, 'page.png') }],
  ];
  const firstErrors: string[] = [];
  /** Runs the normal clients until `until` (ms, performance.now); their outcomes and latencies. */
  const runNormal = async (until: number) => {
    const r = { ok: 0, errors: 0, lat: [] as number[] };
    await Promise.all(
      normalClients.map(async (c, w) => {
        for (let i = 0; performance.now() < until; i++) {
          const due = performance.now() + 1000 / NORMAL_RATE;
          const [name, args] = normalCalls[(i + w) % normalCalls.length]!;
          const t0 = performance.now();
          try {
            const res = await c.callTool({ name, arguments: args });
            if (res.isError) {
              r.errors++;
              if (firstErrors.length < 5) firstErrors.push(`${name}: ${(res.content as Array<{ text: string }>)[0]!.text.slice(0, 160)}`);
            } else {
              r.ok++;
              r.lat.push(performance.now() - t0);
            }
          } catch (e) {
            r.errors++;
            if (firstErrors.length < 5) firstErrors.push(`${name}: threw ${(e as Error).message.slice(0, 160)}`);
          }
          await new Promise((res) => setTimeout(res, Math.max(0, due - performance.now())));
        }
      }),
    );
    return r;
  };
  // Warm every model, then the baseline: normal traffic alone.
  for (const [name, args] of normalCalls) await normalClients[0]!.callTool({ name, arguments: args });
  const baseline = await runNormal(performance.now() + BASELINE_SECONDS * 1000);

  const end = performance.now() + SECONDS * 1000;
  const live = () => performance.now() < end;

  // /health latency, polled throughout from a thread of its own, so the hostile clients' work in
  // this process does not delay the measurement.
  const poller = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const lat = []; let failures = 0;
      while (Date.now() < workerData.end) {
        const t0 = performance.now();
        try { const r = await fetch(workerData.url); await r.text(); if (r.status !== 200) failures++; } catch { failures++; }
        lat.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
      }
      parentPort.postMessage({ lat, failures });
    })();`,
    { eval: true, workerData: { url: `${base}/health`, end: Date.now() + SECONDS * 1000 } },
  );
  const poll = new Promise<{ lat: number[]; failures: number }>((resolve) => poller.once('message', resolve));
  const normalRun = runNormal(end);

  // Hostile traffic: its own key.
  const hostile = { calls: 0, refused: 0, accepted: 0 };
  const hc = await Promise.all(Array.from({ length: 4 }, () => connect(server.url, HOSTILE_KEY)));
  const hostileCall = async (c: Client, name: string, args: Record<string, unknown>) => {
    hostile.calls++;
    try {
      const r = await c.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
      if (r.isError) hostile.refused++;
      else hostile.accepted++;
    } catch {
      hostile.refused++;
    }
  };
  const loops: Array<() => Promise<void>> = [
    async () => void (await Promise.all(Array.from({ length: 8 }, () => hostileCall(hc[0]!, 'ocr', { image: join(allowed, 'fifo.png') })))),
    async () => hostileCall(hc[1]!, 'detect_speech', { audio_base64: bomb }),
    async () => hostileCall(hc[1]!, 'detect_speech', { audio_base64: fastFlac.toString('base64') }),
    async () => void (await Promise.all(Array.from({ length: 16 }, () => hostileCall(hc[2]!, 'ocr', { image_base64: bigPng })))),
    async () => hostileCall(hc[2]!, 'ocr', { image_base64: strip }),
    async () => hostileCall(hc[3]!, 'generate', { model: 'distilgpt2', prompt: 'word '.repeat(3000), max_new_tokens: 16 }),
    async () => hostileCall(hc[3]!, 'generate', { model: 'distilgpt2', prompt: 'Go', max_new_tokens: 2048 }),
    async () =>
      hostileCall(hc[0]!, 'embed', {
        texts: Array.from({ length: 2048 }, (_, i) => `a hostile batch text number ${i}, long enough to cost`),
      }),
    async () => {
      hostile.calls++;
      const batch = Array.from({ length: 2 * RATE_LIMIT }, (_, i) => ({
        jsonrpc: '2.0',
        id: i + 1,
        method: 'tools/call',
        params: { name: 'generate', arguments: { model: 'distilgpt2', prompt: 'x', max_new_tokens: 64 } },
      }));
      const r = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${HOSTILE_KEY}`,
        },
        body: JSON.stringify(batch),
      });
      await r.text();
      if (r.status === 429) hostile.refused++;
      else hostile.accepted++;
    },
  ];
  // ABUSE_ONLY=0,3 runs only those hostile loops (to see which one costs what).
  const only = process.env.ABUSE_ONLY?.split(',').map(Number);
  const hostileWork = loops
    .filter((_, i) => !only || only.includes(i))
    .map(async (loop) => {
      while (live()) await loop();
    });

  const [{ lat: health, failures: healthFailures }, normal] = await Promise.all([poll, normalRun, ...hostileWork]);
  const peak = procStatus(server.pid, 'VmHWM');
  const rate = (r: { ok: number }, s: number) => r.ok / s;
  for (const c of [...normalClients, ...hc]) await c.close().catch(() => undefined);
  const code = await server.stop();
  if (firstErrors.length) process.stderr.write(`normal traffic errors (first 5): ${firstErrors.join(' | ')}\n`);
  return {
    seconds: SECONDS,
    memory_budget_mb: BUDGET / 1e6,
    peak_rss_mb: peak / 1e6,
    peak_rss_over_budget_mb: (peak - BUDGET) / 1e6,
    health_checks: health.length,
    health_p50_ms: pct(health, 0.5),
    health_p99_ms: pct(health, 0.99),
    health_max_ms: Math.max(...health),
    health_failures: healthFailures,
    normal_ok: normal.ok,
    normal_errors: normal.errors,
    normal_success_rate: normal.ok / Math.max(1, normal.ok + normal.errors),
    normal_baseline_calls_per_s: rate(baseline, BASELINE_SECONDS),
    normal_calls_per_s: rate(normal, SECONDS),
    normal_throughput_vs_baseline: rate(normal, SECONDS) / Math.max(1e-9, rate(baseline, BASELINE_SECONDS)),
    normal_baseline_p50_ms: pct(baseline.lat, 0.5),
    normal_p50_ms: pct(normal.lat, 0.5),
    normal_p99_ms: pct(normal.lat, 0.99),
    hostile_calls: hostile.calls,
    hostile_refused: hostile.refused,
    hostile_accepted: hostile.accepted,
    exit_code_after_sigterm: code,
  };
}
