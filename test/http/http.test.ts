/**
 * Streamable HTTP on loopback through the SDK's StreamableHTTPClientTransport: stateful and
 * stateless calls, progress, the API-key matrix, Host checks, body limit, /metrics, /health,
 * /ready and bind safety.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { makeConfig } from '../../src/config/config.js';
import { bindSafetyError, checkKey, parseKeys } from '../../src/transports/http/auth.js';
import { errorOf } from '../helpers/server.js';
import { closeHttpApps, startHttpApp } from '../helpers/http.js';

afterAll(closeHttpApps);

/** A server with the built-in skills only. */
const start = (over: Parameters<typeof makeConfig>[0] = {}) => startHttpApp(over, { skills: false });

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
    const g = await client.callTool(
      { name: 'generate', arguments: { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 4 } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
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
    await client.callTool({ name: 'generate', arguments: { model: 'distilgpt2', prompt: 'Hi', max_new_tokens: 3 } }, undefined, {
      onprogress: (p) => progress.push(p),
    });
    expect(progress.length).toBeGreaterThan(0);
    const res = await fetch(http.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(405);
    await client.close();
  });

  it('API keys: no key, wrong key, right key, hashed key', async () => {
    const hashed = `sha256:${createHash('sha256').update('second-key').digest('hex')}`;
    const { http } = await start({ apiKeys: ['first-key', hashed] });
    await expect(connect(http.url)).rejects.toThrow(/missing credentials/i);
    await expect(connect(http.url, { authorization: 'Bearer nope' })).rejects.toThrow(/invalid API key/i);
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
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/mcp',
          method: 'POST',
          headers: { host: 'evil.example.com', 'content-type': 'application/json' },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
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
      const line = text
        .split('\n')
        .find((l) => l.startsWith('model_requests_total{') && l.includes('model="all-minilm-l6-v2"') && l.includes('status="ok"'));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = await count();
    await client.callTool({ name: 'similarity', arguments: similarity });
    await client.callTool({ name: 'similarity', arguments: similarity });
    expect(await count()).toBe(before + 2);
    const text = await (await fetch(http.url.replace('/mcp', '/metrics'))).text();
    for (const name of [
      'model_request_duration_seconds',
      'model_tokens_processed_total',
      'hardware_memory_used_bytes',
      'queue_depth',
      'models_loaded',
      'batch_size',
      'model_phase_duration_seconds',
    ]) {
      expect(text).toContain(name);
    }
    expect((await fetch(http.url.replace('/mcp', '/health'))).status).toBe(200);
    expect((await fetch(http.url.replace('/mcp', '/ready'))).status).toBe(200);
    await client.close();
  });
});

describe('CORS and sessions', () => {
  it('answers preflights for allowed origins only; a full session store refuses a new session rather than close a live one', async () => {
    const { http } = await start({ corsOrigins: ['https://app.example.com'], maxSessions: 1 });
    const pre = await fetch(http.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const bad = await fetch(http.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com' } });
    expect(bad.status).toBe(403);
    const first = await connect(http.url);
    await expect(connect(http.url)).rejects.toThrow(/sessions are in use/);
    expect((await first.listTools()).tools.length).toBeGreaterThan(0);
    await first.close();
  });
});

describe('logging', () => {
  it('request-tied log notifications reach the client and logging/setLevel filters them', async () => {
    const { http } = await start();
    const client = await connect(http.url);
    const logs: Array<{ level: string; data: { event?: string } }> = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params as never);
    });
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'load_model', arguments: { model: 'distilbert-sst2' } });
    expect(logs.some((l) => l.data.event === 'loading_model')).toBe(true);
    logs.length = 0;
    await client.setLoggingLevel('error');
    await client.callTool({ name: 'load_model', arguments: { model: 'distilgpt2' } });
    expect(logs).toEqual([]);
    await client.close();
  });

  it('the audit log records auth failures and admin actions with a key id, never the key', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(s) });
    const { http } = await startHttpApp({ apiKeys: ['super-secret-key'] }, { skills: false, logger });
    await expect(connect(http.url, { authorization: 'Bearer wrong-secret-key' })).rejects.toThrow();
    const client = await connect(http.url, { authorization: 'Bearer super-secret-key' });
    await client.callTool({ name: 'load_model', arguments: { model: 'distilbert-sst2' } });
    await client.close();
    const all = lines.join('');
    expect(all).toMatch(/"event":"auth_failed"/);
    expect(all).toMatch(/"admin":"load_model","client":"key:[0-9a-f]{8}"/);
    expect(all).not.toContain('super-secret-key');
    expect(all).not.toContain('wrong-secret-key');
  });
});

describe('JWT scopes', () => {
  const secret = 'a-shared-secret-of-32-bytes-long!!';
  const token = (scope: string, sub = 'agent-1') =>
    new SignJWT({ scope })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));

  it('a token with models:admin may load models; one with only models:infer may not, but may infer', async () => {
    const { http } = await start({ jwtSecret: secret });
    const admin = await connect(http.url, { authorization: `Bearer ${await token('models:admin')}` });
    expect((await admin.callTool({ name: 'load_model', arguments: { model: 'all-minilm-l6-v2' } })).isError).toBeFalsy();
    const user = await connect(http.url, { authorization: `Bearer ${await token('models:infer', 'agent-2')}` });
    expect((await user.callTool({ name: 'similarity', arguments: similarity })).isError).toBeFalsy();
    const denied = await user.callTool({ name: 'unload_model', arguments: { model: 'all-minilm-l6-v2' } });
    expect(errorOf(denied as never)).toMatchObject({ code: 'forbidden', retryable: false });
    const none = await connect(http.url, { authorization: `Bearer ${await token('')}` });
    expect(errorOf((await none.callTool({ name: 'similarity', arguments: similarity })) as never).code).toBe('forbidden');
    const forged = new SignJWT({ scope: 'models:admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('some-other-secret-32-bytes-long!!!'));
    await expect(connect(http.url, { authorization: `Bearer ${await forged}` })).rejects.toThrow(/invalid token/);
    for (const c of [admin, user, none]) await c.close();
  });
});

describe('rate limiting', () => {
  it('per key: 429 with Retry-After past the limit, and the window resets (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const { http } = await start({ apiKeys: ['k1', 'k2'], rateLimit: 3 });
      const post = (key: string) =>
        fetch(http.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'r', version: '1' } },
          }),
        });
      for (let i = 0; i < 3; i++) expect((await post('k1')).status).toBe(200);
      const limited = await post('k1');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await post('k2')).status).toBe(200); // another key has its own budget
      vi.setSystemTime(Date.now() + 61_000);
      expect((await post('k1')).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it('per model: a retryable rate_limited tool error with a retry hint', async () => {
    const { http } = await start({ modelRateLimit: 2 });
    const client = await connect(http.url);
    expect((await client.callTool({ name: 'similarity', arguments: similarity })).isError).toBeFalsy();
    expect((await client.callTool({ name: 'similarity', arguments: similarity })).isError).toBeFalsy();
    const e = errorOf((await client.callTool({ name: 'similarity', arguments: similarity })) as never) as {
      code: string;
      retryable: boolean;
      retry_after_ms?: number;
    };
    expect(e).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(e.retry_after_ms).toBeGreaterThan(0);
    await client.close();
  });
});

describe('bind safety and keys', () => {
  it('refuses 0.0.0.0 without auth unless --insecure, and says why', () => {
    expect(bindSafetyError({ host: '0.0.0.0', apiKeys: [], insecure: false })).toMatch(
      /refusing to listen on 0.0.0.0 without authentication/,
    );
    expect(bindSafetyError({ host: '0.0.0.0', apiKeys: ['k'], insecure: false })).toBeUndefined();
    expect(bindSafetyError({ host: '0.0.0.0', apiKeys: [], insecure: true })).toBeUndefined();
    expect(bindSafetyError({ host: '127.0.0.1', apiKeys: [], insecure: false })).toBeUndefined();
  });

  it('matches plaintext and hashed keys and names them by a short id', () => {
    const keys = parseKeys(['alpha', `sha256:${createHash('sha256').update('beta').digest('hex')}`]);
    expect(checkKey(keys, 'alpha')?.id).toMatch(/^[0-9a-f]{8}$/);
    expect(checkKey(keys, 'beta')?.id).toBe(keys[1]!.id);
    expect(checkKey(keys, 'beta')?.scopes).toContain('models:admin');
    const scoped = parseKeys(['scraper metrics:read']);
    expect(checkKey(scoped, 'scraper')?.scopes).toEqual(['metrics:read']);
    expect(checkKey(scoped, 'scraper metrics:read')).toBeUndefined();
    expect(() => parseKeys(['k models:everything'])).toThrow(/unknown scope "models:everything"/);
    expect(checkKey(keys, 'gamma')).toBeUndefined();
    expect(checkKey(keys, undefined)).toBeUndefined();
  });
});
