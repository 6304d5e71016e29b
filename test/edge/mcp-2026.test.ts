/**
 * Both protocol eras on the built CLI, through the SDK's own clients: a v2 client pinned to
 * 2026-07-28 over stdio and over HTTP (no initialize, no session), a raw stateless POST carrying
 * the per-request `_meta` envelope, and a 2025-era client on the same endpoint keeping its
 * session. The MCP surface is the same in both eras: tools, resources, progress, errors, and
 * skill changes (`list_changed` through `subscriptions/listen` for 2026-07-28 clients).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMCPClient } from '@ai-sdk/mcp';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { childEnv } from '../helpers/server.js';
import { httpServers } from '../helpers/spawn.js';

const REVISION = '2026-07-28';
const pinned = () => new ModernClient({ name: 'modern', version: '1' }, { versionNegotiation: { mode: { pin: REVISION } } });

const servers = httpServers(childEnv);
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c().catch(() => undefined);
  await servers.killAll();
});
const serve = servers.serve;

/** The checks every era must pass the same way on a connected client. */
async function sameSurface(client: ModernClient | LegacyClient) {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining(['embed', 'similarity', 'generate', 'tokenize', 'rerank', 'extract_entities']));
  // The arguments are the task layer's: each tool's model argument lists the models.
  const embedTool = tools.find((t) => t.name === 'embed')!;
  expect((embedTool.inputSchema.properties!.model as { enum: string[] }).enum).toContain('all-minilm-l6-v2');
  expect(embedTool.outputSchema).toBeUndefined();

  // A call with progress: the token's notifications arrive before the result.
  const progress: string[] = [];
  const params = { name: 'embed', arguments: { texts: ['both eras'] } };
  const onprogress = (p: { message?: string }) => void progress.push(p.message ?? '');
  // The v2 client takes the options second; the v1 client takes a result schema first.
  const r =
    client instanceof LegacyClient
      ? await client.callTool(params, undefined, { onprogress })
      : await client.callTool(params, { onprogress });
  expect(r.isError).toBeFalsy();
  const sc = r.structuredContent as { embeddings: number[][]; model: string };
  expect(sc.embeddings[0]!.length).toBe(384);
  expect(sc.model).toBe('all-minilm-l6-v2');
  expect(progress.some((m) => m.startsWith('loading model'))).toBe(true);

  // A catalogued failure is a tool result with its stable code.
  const bad = await client.callTool({ name: 'embed', arguments: { texts: 'not a list' } });
  expect(bad.isError).toBe(true);
  expect(JSON.parse((bad.content as Array<{ text: string }>)[0]!.text).error.code).toBe('invalid_input');

  // An unknown tool is a protocol error that lists the tools.
  const unknown = await client.callTool({ name: 'embedd', arguments: {} }).then(
    () => undefined,
    (e: unknown) => e as { code: number; message: string },
  );
  expect(unknown?.code).toBe(-32602);
  expect(unknown?.message).toMatch(/the tools are: .*embed/);

  // Resources and templates.
  const { resources } = await client.listResources();
  expect(resources.map((x) => x.uri)).toEqual(expect.arrayContaining(['hf://hardware', 'hf://models']));
  const models = await client.readResource({ uri: 'hf://models' });
  expect(JSON.parse((models.contents[0] as { text: string }).text).skills.length).toBeGreaterThan(3);
  const { resourceTemplates } = await client.listResourceTemplates();
  expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('hf://models/{name}');
}

describe('a 2026-07-28 client (the SDK v2 client, pinned)', () => {
  it('over HTTP: no initialize and no session, the same tools, resources, progress and errors', async () => {
    const s = await serve();
    const client = pinned();
    const transport = new ModernHttp(new URL(s.url));
    await client.connect(transport);
    closers.push(() => client.close());
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getNegotiatedProtocolVersion()).toBe(REVISION);
    expect(transport.sessionId).toBeUndefined();
    await sameSurface(client);
  });

  it('over stdio: the connection opens in 2026-07-28 and serves the same surface', async () => {
    const env = childEnv();
    const client = pinned();
    await client.connect(new ModernStdio({ command: process.execPath, args: ['dist/cli.js'], env, stderr: 'ignore' }));
    closers.push(() => client.close());
    expect(client.getNegotiatedProtocolVersion()).toBe(REVISION);
    await sameSurface(client);
  });

  it('hears a skills change through subscriptions/listen, over HTTP and over stdio', async () => {
    const skills = mkdtempSync(join(tmpdir(), 'hfms-2026-skills-'));
    const env = childEnv({ HF_MODEL_SERVER_SKILLS_DIR: skills });
    const model = ensureModel({ arch: 'bert', seed: 31 });
    const s = await serve([], env);
    const overHttp = pinned();
    await overHttp.connect(new ModernHttp(new URL(s.url)));
    const overStdio = pinned();
    await overStdio.connect(new ModernStdio({ command: process.execPath, args: ['dist/cli.js'], env, stderr: 'ignore' }));
    closers.push(
      () => overHttp.close(),
      () => overStdio.close(),
    );
    const heard = { http: 0, stdio: 0 };
    overHttp.setNotificationHandler('notifications/tools/list_changed', async () => void heard.http++);
    overStdio.setNotificationHandler('notifications/tools/list_changed', async () => void heard.stdio++);
    const subs = [await overHttp.listen({ toolsListChanged: true }), await overStdio.listen({ toolsListChanged: true })];
    closers.push(...subs.map((sub) => () => sub.close()));
    expect(subs.every((sub) => sub.honoredFilter.toolsListChanged === true)).toBe(true);

    const manifest = {
      name: 'late-embed',
      family: 'bert',
      architecture: 'encoder-only',
      tasks: ['feature-extraction'],
      model: { id: model },
    };
    writeFileSync(join(skills, 'late.json'), JSON.stringify({ ...manifest, description: 'added while serving' }));
    await vi.waitFor(() => expect(Math.min(heard.http, heard.stdio)).toBeGreaterThan(0), { timeout: 5000 });
    // A fresh list (past the client's cache) names the new model.
    for (const c of [overHttp, overStdio]) {
      const { tools } = await c.listTools({}, { cacheMode: 'refresh' });
      const e = tools.find((t) => t.name === 'embed')!;
      expect((e.inputSchema.properties!.model as { enum: string[] }).enum).toContain('late-embed');
    }
  });
});

describe('the AI SDK’s MCP client', () => {
  it('negotiates 2026-07-28 through server/discover (no fallback to initialize) and calls a tool', async () => {
    const s = await serve();
    const client = await createMCPClient({ transport: { type: 'http', url: s.url } });
    closers.push(() => client.close());
    const tools = await client.tools();
    expect(Object.keys(tools)).toEqual(expect.arrayContaining(['embed', 'generate', 'caption']));
    const out = (await tools.tokenize!.execute!({ text: 'from the AI SDK' }, { toolCallId: '1', messages: [] } as never)) as {
      resultType?: string;
      _meta?: Record<string, unknown>;
      structuredContent?: { tokens: unknown[][] };
    };
    // Only a 2026-07-28 exchange carries the result type and the server's identity on every result.
    expect(out.resultType).toBe('complete');
    expect(out._meta).toHaveProperty(['io.modelcontextprotocol/serverInfo']);
    expect(out.structuredContent!.tokens[0]!.length).toBeGreaterThan(2);
  });
});

describe('subscription streams and shutdown', () => {
  it('an open subscriptions/listen stream does not hold up SIGTERM: it ends, and the process exits well inside the grace', async () => {
    const s = await serve(['--shutdown-grace', '20s']);
    const client = pinned();
    await client.connect(new ModernHttp(new URL(s.url)));
    const sub = await client.listen({ toolsListChanged: true });
    const exited = new Promise<{ code: number | null; ms: number }>((resolve) => {
      const t0 = performance.now();
      s.child.once('exit', (code) => resolve({ code, ms: performance.now() - t0 }));
    });
    s.child.kill('SIGTERM');
    const { code, ms } = await exited;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(['remote', 'graceful']).toContain(await sub.closed);
    await client.close().catch(() => undefined);
  });
});

describe('raw 2026-07-28 requests', () => {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': REVISION,
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const headers = (method: string, name?: string) => ({
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': REVISION,
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
  });

  it('a stateless POST with the _meta envelope and no initialize is answered, with a list lifetime', async () => {
    const s = await serve();
    const list = await fetch(s.url, {
      method: 'POST',
      headers: headers('tools/list'),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }),
    });
    expect(list.status).toBe(200);
    expect(list.headers.get('mcp-session-id')).toBeNull();
    const body = (await list.json()) as { result: { tools: Array<{ name: string }>; ttlMs: number; cacheScope: string } };
    expect(body.result.tools.map((t) => t.name)).toContain('embed');
    expect(body.result.ttlMs).toBeGreaterThan(0);
    expect(body.result.cacheScope).toBe('public');

    const call = await fetch(s.url, {
      method: 'POST',
      headers: headers('tools/call', 'tokenize'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'tokenize', arguments: { text: 'raw call' }, _meta: meta },
      }),
    });
    expect(call.status).toBe(200);
    const r = (await call.json()) as { result: { structuredContent: { tokens: unknown[][] } } };
    expect(r.result.structuredContent.tokens[0]!.length).toBeGreaterThan(2);

    const discover = await fetch(s.url, {
      method: 'POST',
      headers: headers('server/discover'),
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'server/discover', params: { _meta: meta } }),
    });
    expect(discover.status).toBe(200);
    const d = (await discover.json()) as { result: { supportedVersions: string[]; _meta: Record<string, { name: string }> } };
    expect(d.result.supportedVersions).toContain(REVISION);
    expect(d.result._meta['io.modelcontextprotocol/serverInfo']!.name).toBe('hf-model-server');
  });

  it('the edge checks apply to 2026 requests too: keys, and params that do not fit', async () => {
    const s = await serve([], { HF_MODEL_SERVER_API_KEYS: 'k1' });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } });
    expect((await fetch(s.url, { method: 'POST', headers: headers('tools/list'), body })).status).toBe(401);
    const ok = await fetch(s.url, { method: 'POST', headers: { ...headers('tools/list'), authorization: 'Bearer k1' }, body });
    expect(ok.status).toBe(200);
    const junk = await fetch(s.url, {
      method: 'POST',
      headers: { ...headers('tools/call', 'embed'), authorization: 'Bearer k1' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'embed', arguments: 'x', _meta: meta } }),
    });
    const j = (await junk.json()) as { error: { code: number; message: string } };
    expect(j.error.code).toBe(-32602);
    expect(j.error.message).toMatch(/arguments/);
  });
});

describe('a 2025-era client on the same endpoint', () => {
  it('initializes, keeps its session, and sees the same surface', async () => {
    const s = await serve();
    const client = new LegacyClient({ name: 'legacy', version: '1' });
    const transport = new LegacyHttp(new URL(s.url));
    await client.connect(transport);
    closers.push(() => client.close());
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await sameSurface(client);
  });

  it('with --stateless too', async () => {
    const s = await serve(['--stateless']);
    const client = new LegacyClient({ name: 'legacy', version: '1' });
    const transport = new LegacyHttp(new URL(s.url));
    await client.connect(transport);
    closers.push(() => client.close());
    expect(transport.sessionId).toBeUndefined();
    await sameSurface(client);
  });
});
