/**
 * Regressions for what an outside attack found at the HTTP edge, on loopback through raw fetch
 * and the SDK client: JSON-RPC batches against the rate limit, guessing keys, other-port origins,
 * one client hoarding sessions, scope-less tokens reading resources and metrics, JWT algorithm
 * and expiry, and requests the server gives up on (request timeout, shutdown grace).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createApp, type App } from '../../src/app.js';
import { makeConfig, parseCli } from '../../src/config/config.js';
import { startHttp, type HttpServer } from '../../src/transports/http/server.js';
import { FakeBackend, fakeSkill } from '../helpers/fake-backend.js';
import { makeSkillsDir } from '../helpers/server.js';

const running: Array<{ app: App; http: HttpServer }> = [];
afterAll(async () => {
  for (const r of running) {
    await r.http.close(0).catch(() => undefined);
    await r.app.close();
  }
});

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

/** A server on the fake backend (runs take `runDelayMs`), so timing is the test's to choose. */
async function start(over: Parameters<typeof makeConfig>[0] = {}, runDelayMs = 0) {
  const skills = makeSkillsDir({ 'e.json': fakeSkill('emb', 'feature-extraction'), 'g.json': fakeSkill('gen', 'text-generation') });
  const config = makeConfig({
    transport: 'http',
    port: 0,
    skillsDirs: [skills],
    cacheBytes: 0,
    ...over,
  });
  const app = createApp(config, { logger: pino({ level: 'silent' }), backend: new FakeBackend({ runDelayMs }), builtinSkillsDir: null });
  const http = await startHttp(app);
  running.push({ app, http });
  return { app, http };
}

const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { ...HEADERS, ...headers }, body: JSON.stringify(body) });
  return { res, text: await res.text() };
}

async function connect(url: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: 'hardening', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const jwt = (claims: Record<string, unknown>, o: { alg?: string; exp?: boolean } = {}) => {
  let t = new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? 'HS256' })
    .setSubject('tester')
    .setIssuedAt();
  if (o.exp !== false) t = t.setExpirationTime('5m');
  return t.sign(new TextEncoder().encode(SECRET));
};

describe('rate limits count what is done', () => {
  it('a JSON-RPC batch costs one per message: 100 messages in one POST are refused under a limit of 5', async () => {
    const { http } = await start({ stateless: true, rateLimit: 5 });
    const batch = Array.from({ length: 100 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i + 1,
      method: 'tools/call',
      params: { name: 'embed', arguments: { texts: ['x'] } },
    }));
    const { res, text } = await post(http.url, batch);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(JSON.parse(text).error.data.code).toBe('rate_limited');
    // Single messages still fit the allowance.
    const one = await post(http.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(one.res.status).toBe(200);
  });

  it('repeated wrong keys from one address are throttled, but a right key from it is still served', async () => {
    const { http } = await start({ apiKeys: ['right-key'], authFailureLimit: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await post(http.url, INIT, { authorization: `Bearer wrong-${i}` })).res.status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const right = await post(http.url, INIT, { authorization: 'Bearer right-key' });
    expect(right.res.status).toBe(200);
    const again = await post(http.url, INIT, { authorization: 'Bearer wrong-again' });
    expect(JSON.parse(again.text).error.data.code).toBe('rate_limited');
  });
});

describe('origins', () => {
  it('another port or scheme on a loopback host is another origin; the exact own origin and listed ones pass', async () => {
    const { http } = await start();
    for (const origin of [`http://localhost:5173`, `https://127.0.0.1:${http.port}`, 'http://127.0.0.1', 'null']) {
      const r = await post(http.url, INIT, { origin });
      expect(r.res.status, origin).toBe(403);
      expect(JSON.parse(r.text).error.data.code).toBe('forbidden');
    }
    expect((await post(http.url, INIT, { origin: `http://127.0.0.1:${http.port}` })).res.status).toBe(200);
    const listed = await start({ corsOrigins: ['http://localhost:5173'] });
    expect((await post(listed.http.url, INIT, { origin: 'http://localhost:5173' })).res.status).toBe(200);
  });
});

describe('sessions', () => {
  it('one client cannot hold every session: past its own cap it is refused while its sessions are live, and others still get in', async () => {
    const { http } = await start({ maxSessions: 6, maxSessionsPerClient: 3, apiKeys: ['x', 'y'] });
    const statuses: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { res } = await post(http.url, INIT, { authorization: 'Bearer x' });
      statuses.push(res.status);
      if (res.status === 200) ids.push(res.headers.get('mcp-session-id')!);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // The first three stay alive: a client that never re-initializes keeps working.
    for (const sid of ids) {
      const r = await post(
        http.url,
        { jsonrpc: '2.0', id: 9, method: 'tools/list' },
        { authorization: 'Bearer x', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
      );
      expect(r.res.status).toBe(200);
    }
    const other = await connect(http.url, { authorization: 'Bearer y' });
    expect((await other.listTools()).tools.length).toBeGreaterThan(0);
    await other.close();
  });
});

describe('scopes', () => {
  it('a token with no scope may list tools, but not read resources, set the log level, call tools or scrape metrics', async () => {
    const { http } = await start({ jwtSecret: SECRET });
    const none = await connect(http.url, { authorization: `Bearer ${await jwt({})}` });
    expect((await none.listTools()).tools.length).toBeGreaterThan(0);
    await expect(none.readResource({ uri: 'hf://models' })).rejects.toThrow(/models:read/);
    await expect(none.readResource({ uri: 'hf://hardware' })).rejects.toThrow(/models:read/);
    await expect(none.setLoggingLevel('debug')).rejects.toThrow(/models:read/);
    await none.close();
    const metrics = await fetch(http.url.replace('/mcp', '/metrics'), { headers: { authorization: `Bearer ${await jwt({})}` } });
    expect(metrics.status).toBe(403);

    const reader = await connect(http.url, { authorization: `Bearer ${await jwt({ scope: 'models:read' })}` });
    expect(
      JSON.parse(((await reader.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text).skills.length,
    ).toBeGreaterThan(0);
    const denied = await reader.callTool({ name: 'embed', arguments: { texts: ['x'] } });
    expect(denied.isError).toBe(true);
    await reader.close();
    const scraper = await fetch(http.url.replace('/mcp', '/metrics'), {
      headers: { authorization: `Bearer ${await jwt({ scope: 'metrics:read' })}` },
    });
    expect(scraper.status).toBe(200);
  });
});

describe('JWT', () => {
  it('refuses a token without exp and one signed with another algorithm; accepts exp with HS256', async () => {
    const { http } = await start({ jwtSecret: SECRET });
    const noExp = await post(http.url, INIT, { authorization: `Bearer ${await jwt({ scope: 'models:infer' }, { exp: false })}` });
    expect(noExp.res.status).toBe(401);
    expect(JSON.parse(noExp.text).error.data.code).toBe('unauthorized');
    const hs512 = await post(http.url, INIT, { authorization: `Bearer ${await jwt({ scope: 'models:infer' }, { alg: 'HS512' })}` });
    expect(hs512.res.status).toBe(401);
    expect((await post(http.url, INIT, { authorization: `Bearer ${await jwt({ scope: 'models:infer' })}` })).res.status).toBe(200);
    const lenient = await start({ jwtSecret: SECRET, jwtAllowNoExp: true });
    expect((await post(lenient.http.url, INIT, { authorization: `Bearer ${await jwt({}, { exp: false })}` })).res.status).toBe(200);
  });

  it('reads the secret from --jwt-secret-file', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'hfms-jwt-')), 'secret');
    writeFileSync(f, `${SECRET}\n`);
    expect(parseCli(['--jwt-secret-file', f], {}).config.jwtSecret).toBe(SECRET);
  });
});

describe('requests the server gives up on', () => {
  it('a call running past the request timeout gets a timeout error result, not an empty stream', async () => {
    const { http } = await start({ requestTimeoutMs: 1000, deadlineMs: 60_000 }, 3000);
    const client = await connect(http.url);
    const t0 = Date.now();
    const r = await client.callTool({ name: 'embed', arguments: { texts: ['slow'] } });
    expect(Date.now() - t0).toBeLessThan(2900);
    expect(r.isError).toBe(true);
    expect(JSON.parse((r.content as Array<{ text: string }>)[0]!.text).error.code).toBe('timeout');
    await client.close();
  });

  it('a call still running past the shutdown grace gets shutting_down through the SDK client', async () => {
    const { http } = await start({ deadlineMs: 60_000 }, 4000);
    const client = await connect(http.url);
    const pending = client.callTool({ name: 'embed', arguments: { texts: ['slow'] } });
    await new Promise((r) => setTimeout(r, 300));
    const closing = http.close(500);
    const r = await pending;
    await closing;
    expect(r.isError).toBe(true);
    expect(JSON.parse((r.content as Array<{ text: string }>)[0]!.text).error.code).toBe('shutting_down');
  });

  it('a GET event stream outlives the request timeout, and gets a retry hint when the server shuts down', async () => {
    const { http } = await start({ requestTimeoutMs: 1000 });
    const init = await post(http.url, INIT);
    const sid = init.res.headers.get('mcp-session-id')!;
    await post(
      http.url,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
    );
    const stream = await fetch(http.url, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    const drain = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })();
    const outcome = await Promise.race([drain.then(() => 'ended'), new Promise((r) => setTimeout(() => r('open'), 1800))]);
    expect(outcome).toBe('open');
    await http.close(0);
    await drain;
    expect(text).toMatch(/^retry: \d+$/m);
  });

  it('the raw stream of a given-up call carries the error result and a retry hint', async () => {
    const { http } = await start({ stateless: true, deadlineMs: 60_000 }, 4000);
    const req = post(http.url, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'embed', arguments: { texts: ['slow'] } } });
    await new Promise((r) => setTimeout(r, 300));
    await http.close(300);
    const { text } = await req;
    expect(text).toMatch(/"id":5/);
    expect(text).toMatch(/shutting_down/);
    expect(text).toMatch(/^retry: \d+$/m);
  });
});
