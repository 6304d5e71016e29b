/**
 * Every tool goes through the one call path (tasks/task.ts, adapted by mcp/tools/register.ts): this test lists the tools
 * and checks each one's scope, deadline and response-cache behaviour, so a new tool that skips a
 * check fails here. Each listed tool needs an entry in CALLS (valid arguments on the generated
 * and shipped models); a tool without one fails the first test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createApp, type App } from '../../src/app.js';
import { makeConfig } from '../../src/config/config.js';
import { createServer } from '../../src/mcp/server.js';
import { ADMIN_SCOPE, INFER_SCOPE } from '../../src/tasks/scopes.js';
import { errorOf, makeModelsDir, makeSkillsDir, testSkills } from '../helpers/server.js';
import { PAGE, SPEECH } from '../helpers/media.js';

/** Valid arguments per tool, and the scope it needs. */
const CALLS: Record<string, { args: Record<string, unknown>; scope: string }> = {
  embed: { args: { texts: ['hello world'] }, scope: INFER_SCOPE },
  similarity: { args: { query: 'hello', documents: ['hello', 'goodbye'] }, scope: INFER_SCOPE },
  rerank: { args: { query: 'hello', documents: ['hello', 'goodbye'] }, scope: INFER_SCOPE },
  extract_entities: { args: { text: 'Alice lives in Paris' }, scope: INFER_SCOPE },
  classify: { args: { text: 'a fine day' }, scope: INFER_SCOPE },
  generate: { args: { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 3 }, scope: INFER_SCOPE },
  tokenize: { args: { text: 'hello world' }, scope: INFER_SCOPE },
  ocr: { args: { image: PAGE }, scope: INFER_SCOPE },
  detect: { args: { image: PAGE, model: 'paddleocr-v4' }, scope: INFER_SCOPE },
  transcribe: { args: { audio: SPEECH, max_new_tokens: 4 }, scope: INFER_SCOPE },
  detect_speech: { args: { audio: SPEECH }, scope: INFER_SCOPE },
  caption: { args: { image: PAGE, max_new_tokens: 4 }, scope: INFER_SCOPE },
  load_model: { args: { model: 'tiny-chat' }, scope: ADMIN_SCOPE }, // a model no other call here loads
  unload_model: { args: { model: 'distilbert-sst2' }, scope: ADMIN_SCOPE },
  benchmark_model: { args: { model: 'all-minilm-l6-v2', iterations: 1 }, scope: ADMIN_SCOPE },
};
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/** Tools whose whole work can finish within a millisecond (no model run), so a 1 ms deadline may not catch them. */
const INSTANT = new Set(['unload_model']);

let app: App;
let names: string[];
beforeAll(async () => {
  const config = makeConfig({
    offline: true,
    modelsDir: makeModelsDir(),
    skillsDirs: [makeSkillsDir(testSkills())],
    threads: 1,
    cacheBytes: 64e6,
    media: { allowDirs: [process.cwd()] },
  });
  app = createApp(config, { logger: pino({ level: 'silent' }), useFsCache: false });
  const c = await client(undefined);
  names = (await c.listTools()).tools.map((t) => t.name);
  await c.close();
}, 120_000);
afterAll(async () => app?.close());

/** A client whose every request carries `auth` (as the HTTP edge would attach it). */
async function client(auth: AuthInfo | undefined): Promise<Client> {
  const { server } = createServer(app.deps);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const send = b.send.bind(b);
  b.send = (message, options) => send(message, { ...options, ...(auth ? { authInfo: auth } : {}) });
  const c = new Client({ name: 'every-tool', version: '1' });
  await server.connect(a);
  await c.connect(b);
  return c;
}
const token = (scopes: string[]): AuthInfo => ({ token: 't', clientId: 'jwt:test', scopes });
const call = async (c: Client, name: string, meta: Record<string, unknown> = {}, args?: Record<string, unknown>) =>
  (await c.callTool({ name, arguments: args ?? CALLS[name]!.args, _meta: meta })) as CallToolResult;

describe('every tool, one call path', () => {
  it('every tool registers through registerTaskTool and has an entry here', () => {
    expect(names.sort()).toEqual(Object.keys(CALLS).sort());
    // Only the adapters call a task: MCP tools through mcp/tools/register.ts, REST routes through
    // rest/common.ts, the CLI's `call` through transports/call.ts; nothing else registers a tool or
    // reaches the executor from a front door.
    for (const dir of ['src/mcp', 'src/rest', 'src/transports']) {
      for (const f of files(dir)) {
        const text = readFileSync(f, 'utf8');
        if (f !== 'src/mcp/tools/register.ts') expect(text, f).not.toMatch(/\.registerTool\(|guarded\(/);
        if (!['src/mcp/tools/register.ts', 'src/rest/common.ts', 'src/transports/call.ts'].includes(f))
          expect(text, f).not.toMatch(/\brunTask\(/);
        expect(text, f).not.toMatch(/\.executor\.run\(/);
      }
    }
  });

  it('refuses a caller without the scope (forbidden), for every tool', async () => {
    const none = await client(token([]));
    const inferOnly = await client(token([INFER_SCOPE]));
    for (const name of names) {
      expect(errorOf(await call(none, name)).code, name).toBe('forbidden');
      if (CALLS[name]!.scope === ADMIN_SCOPE) expect(errorOf(await call(inferOnly, name)).code, name).toBe('forbidden');
    }
    await none.close();
    await inferOnly.close();
  });

  it('applies the deadline (_meta.timeout_ms) to every tool', async () => {
    const c = await client(undefined);
    for (const name of names.filter((n) => !INSTANT.has(n))) {
      // A tokenize of one short text on a loaded model can finish within 1 ms: give it real work.
      const args = name === 'tokenize' ? { texts: Array.from({ length: 64 }, (_, i) => `sentence ${i} `.repeat(60)) } : undefined;
      const r = await call(c, name, { timeout_ms: 1, cache: false }, args);
      expect(errorOf(r).code, name).toBe('timeout');
    }
    await c.close();
  });

  it('answers a repeated deterministic call from the cache, and never caches admin tools', async () => {
    const c = await client(undefined);
    for (const name of names) {
      const first = await call(c, name);
      expect(first.isError, `${name}: ${JSON.stringify(first.content).slice(0, 200)}`).toBeFalsy();
      const hits = app.deps.cache.hits;
      const second = await call(c, name);
      expect(second.isError, name).toBeFalsy();
      const cachedOnce = app.deps.cache.hits - hits === 1;
      // Inline media would be cacheable; local paths are not (the file may change), nor is admin work.
      const expectCached = CALLS[name]!.scope === INFER_SCOPE && !('image' in CALLS[name]!.args) && !('audio' in CALLS[name]!.args);
      expect(cachedOnce, name).toBe(expectCached);
      if (expectCached) expect(second.structuredContent, name).toEqual(first.structuredContent);
    }
    await c.close();
  });
});
