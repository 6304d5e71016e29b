/**
 * Streamable HTTP on loopback through the SDK's StreamableHTTPClientTransport: stateful and
 * stateless calls, progress, the API-key matrix, Host checks, body limit, /metrics, /health,
 * /ready and bind safety.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createApp, type App } from '../../src/app.js';
import { makeConfig } from '../../src/config/config.js';
import { bindSafetyError, checkKey, parseKeys } from '../../src/transports/http/auth.js';
import { startHttp, type HttpServer } from '../../src/transports/http/server.js';
import { makeModelsDir } from '../helpers/server.js';

const running: Array<{ app: App; http: HttpServer }> = [];
afterAll(async () => {
  for (const r of running) {
    await r.http.close(0);
    await r.app.close();
  }
});

async function start(over: Parameters<typeof makeConfig>[0] = {}) {
  const config = makeConfig({ transport: 'http', port: 0, offline: true, modelsDir: makeModelsDir(), threads: 1, ...over });
  const app = createApp(config, { logger: pino({ level: 'silent' }), useFsCache: false });
  const http = await startHttp(app);
  running.push({ app, http });
  return { app, http };
}

async function connect(url: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: 'http-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const similarity = { query: 'hello world', documents: ['cat', 'hello world'] };

describe('streamable HTTP', () => {
  it('stateful: tools, resources and progress over one session', async () => {
    const { http } = await start();
    const client = await connect(http.url);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('similarity');
    const r = await client.callTool({ name: 'similarity', arguments: similarity });
    expect((r.structuredContent as { results: Array<{ index: number }> }).results[0]!.index).toBe(1);
    const progress: unknown[] = [];
    const g = await client.callTool({ name: 'generate', arguments: { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 4 } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(g.isError).toBeFalsy();
    expect(progress.length).toBeGreaterThan(0);
    const hw = await client.readResource({ uri: 'hf://hardware' });
    expect(JSON.parse((hw.contents[0] as { text: string }).text).cpu.cores).toBeGreaterThan(0);
    await client.close();
  });

  it('stateless: each request stands alone, progress still streams', async () => {
    const { http } = await start({ stateless: true });
    const client = await connect(http.url);
    const r = await client.callTool({ name: 'similarity', arguments: similarity });
    expect(r.isError).toBeFalsy();
    const progress: unknown[] = [];
    await client.callTool({ name: 'generate', arguments: { model: 'distilgpt2', prompt: 'Hi', max_new_tokens: 3 } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(progress.length).toBeGreaterThan(0);
    const res = await fetch(http.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(405);
    await client.close();
  });

  it('API keys: no key, wrong key, right key, hashed key', async () => {
    const hashed = `sha256:${createHash('sha256').update('second-key').digest('hex')}`;
    const { http } = await start({ apiKeys: ['first-key', hashed] });
    await expect(connect(http.url)).rejects.toThrow(/401|invalid API key/i);
    await expect(connect(http.url, { authorization: 'Bearer nope' })).rejects.toThrow(/401|invalid API key/i);
    const a = await connect(http.url, { authorization: 'Bearer first-key' });
    expect((await a.callTool({ name: 'similarity', arguments: similarity })).isError).toBeFalsy();
    const b = await connect(http.url, { 'x-api-key': 'second-key' });
    expect((await b.callTool({ name: 'similarity', arguments: similarity })).isError).toBeFalsy();
    const m = await fetch(http.url.replace('/mcp', '/metrics'));
    expect(m.status).toBe(401);
    expect((await fetch(http.url.replace('/mcp', '/health'))).status).toBe(200);
    await a.close();
    await b.close();
  });

  it('rejects a bad Host header and an oversized body', async () => {
    const { http } = await start({ maxBodyBytes: 2048 });
    const port = http.port;
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { host: 'evil.example.com', 'content-type': 'application/json' } }, (res) => resolve(res.statusCode ?? 0));
      req.end('{}');
    });
    expect(status).toBe(403);
    const big = await fetch(http.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(5000) } }),
    });
    expect(big.status).toBe(413);
  });

  it('/metrics counters rise after calls; /health and /ready answer', async () => {
    const { http } = await start();
    const client = await connect(http.url);
    const count = async () => {
      const text = await (await fetch(http.url.replace('/mcp', '/metrics'))).text();
      const line = text.split('\n').find((l) => l.startsWith('model_requests_total{') && l.includes('model="all-minilm-l6-v2"') && l.includes('status="ok"'));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = await count();
    await client.callTool({ name: 'similarity', arguments: similarity });
    await client.callTool({ name: 'similarity', arguments: similarity });
    expect(await count()).toBe(before + 2);
    const text = await (await fetch(http.url.replace('/mcp', '/metrics'))).text();
    for (const name of ['model_request_duration_seconds', 'model_tokens_processed_total', 'hardware_memory_used_bytes', 'queue_depth', 'models_loaded', 'batch_size', 'model_phase_duration_seconds']) {
      expect(text).toContain(name);
    }
    expect((await fetch(http.url.replace('/mcp', '/health'))).status).toBe(200);
    expect((await fetch(http.url.replace('/mcp', '/ready'))).status).toBe(200);
    await client.close();
  });
});

describe('bind safety and keys', () => {
  it('refuses 0.0.0.0 without auth unless --insecure, and says why', () => {
    expect(bindSafetyError({ host: '0.0.0.0', apiKeys: [], insecure: false })).toMatch(/refusing to listen on 0.0.0.0 without authentication/);
    expect(bindSafetyError({ host: '0.0.0.0', apiKeys: ['k'], insecure: false })).toBeUndefined();
    expect(bindSafetyError({ host: '0.0.0.0', apiKeys: [], insecure: true })).toBeUndefined();
    expect(bindSafetyError({ host: '127.0.0.1', apiKeys: [], insecure: false })).toBeUndefined();
  });

  it('matches plaintext and hashed keys and names them by a short id', () => {
    const keys = parseKeys(['alpha', `sha256:${createHash('sha256').update('beta').digest('hex')}`]);
    expect(checkKey(keys, 'alpha')).toMatch(/^[0-9a-f]{8}$/);
    expect(checkKey(keys, 'beta')).toBe(keys[1]!.id);
    expect(checkKey(keys, 'gamma')).toBeUndefined();
    expect(checkKey(keys, undefined)).toBeUndefined();
  });
});
