/**
 * @module bench/rest
 * REST embeddings against MCP over HTTP, on one server at its defaults (only the response cache
 * off, so every call runs): the generated MiniLM-L6-shaped model, 64 requests in flight, one
 * distinct sentence each, float vectors on both sides. REST through `POST /v1/embeddings` as the
 * openai SDK sends it, MCP through the SDK's streamable HTTP client on one session. Rounds
 * alternate in one run so both see the same machine state; the figure is REST throughput over
 * MCP throughput (medians). Run: `npm run bench -- rest`.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ensureModel } from '../tools/modelgen/cache.js';
import { startHttpServer } from './http-server.js';

const IN_FLIGHT = 64;
const PER_ROUND = Number(process.env.REST_BENCH_CALLS ?? 1280);
const ROUNDS = Number(process.env.REST_BENCH_ROUNDS ?? 4);

/** Runs `calls` calls of `one`, `IN_FLIGHT` at a time; returns calls per second. */
async function drive(calls: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < calls) await one(next++);
    }),
  );
  return calls / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchRest(): Promise<Record<string, number>> {
  const modelsDir = mkdtempSync(join(tmpdir(), 'rest-models-'));
  mkdirSync(join(modelsDir, 'Xenova'));
  symlinkSync(ensureModel({ arch: 'bert', size: 'minilm-l6' }), join(modelsDir, 'Xenova', 'all-MiniLM-L6-v2'));
  const server = await startHttpServer(['--offline', '--models-dir', modelsDir, '--cache-size', '0']);
  try {
    const base = server.url.replace(/\/mcp$/, '');
    const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'none', maxRetries: 0 });
    const mcp = new Client({ name: 'rest-bench', version: '1' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    const sentence = (round: number, i: number) => `sentence ${i} of round ${round}: the quick brown fox jumps over the lazy dog`;
    const viaRest = async (round: number, i: number) => {
      const r = await openai.embeddings.create({ model: 'all-minilm-l6-v2', input: sentence(round, i), encoding_format: 'float' });
      if (r.data[0]!.embedding.length !== 384) throw new Error('bad REST answer');
    };
    const viaMcp = async (round: number, i: number) => {
      const r = await mcp.callTool({ name: 'embed', arguments: { texts: [sentence(round, i)] } });
      if (r.isError) throw new Error(`MCP error: ${JSON.stringify(r.content)}`);
    };
    // Warm both paths (model load, connection pools, JIT).
    await drive(256, (i) => viaRest(-1, i));
    await drive(256, (i) => viaMcp(-1, i));
    const rest: number[] = [];
    const tools: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 0 ? (['rest', 'mcp'] as const) : (['mcp', 'rest'] as const);
      for (const which of order) {
        if (which === 'rest') rest.push(await drive(PER_ROUND, (i) => viaRest(round, i)));
        else tools.push(await drive(PER_ROUND, (i) => viaMcp(round, i)));
      }
      process.stderr.write(`round ${round}: REST ${rest.at(-1)!.toFixed(0)}/s, MCP ${tools.at(-1)!.toFixed(0)}/s\n`);
    }
    await mcp.close();
    return {
      in_flight: IN_FLIGHT,
      calls_per_round: PER_ROUND,
      rounds: ROUNDS,
      rest_per_s: median(rest),
      mcp_http_per_s: median(tools),
      rest_over_mcp: median(rest) / median(tools),
    };
  } finally {
    await server.stop();
  }
}
