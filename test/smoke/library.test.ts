/**
 * The library API as an application uses it: the built package imported under plain Node (not
 * vitest's interop) runs embeddings and streamed generation in-process with typed errors, and a
 * consumer's TypeScript checks against the shipped declarations under --strict.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeModelsDir } from '../helpers/server.js';

describe('library API (dist/index.js)', () => {
  it('embeds, streams generation equal to the whole answer, throws typed errors, and its types check under --strict', () => {
    const app = mkdtempSync(join(tmpdir(), 'hfms-lib-'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(process.cwd(), join(app, 'node_modules', 'hf-model-server'));
    const script = `
      import { createEngine, ServerError } from 'hf-model-server';
      const engine = await createEngine({ offline: true, modelsDir: ${JSON.stringify(makeModelsDir())}, cacheSize: '0', cacheDir: ${JSON.stringify(join(app, 'cache'))} });
      const e = await engine.embed({ texts: ['hello', 'world'] });
      let text = '';
      for await (const piece of engine.generateStream({ model: 'distilgpt2', prompt: 'Once', max_new_tokens: 6 })) text += piece;
      const whole = await engine.generate({ model: 'distilgpt2', prompt: 'Once', max_new_tokens: 6 });
      let err;
      try { await engine.run('embed', { texts: [] }); } catch (x) { err = x; }
      await engine.close();
      process.stdout.write(JSON.stringify({ model: e.model, n: e.embeddings.length, same: text === whole.text, typed: err instanceof ServerError, code: err?.code, retryable: err?.retryable }));`;
    writeFileSync(join(app, 'use.mjs'), script);
    const r = spawnSync(process.execPath, ['use.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr.slice(-800)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      model: 'all-minilm-l6-v2',
      n: 2,
      same: true,
      typed: true,
      code: 'invalid_input',
      retryable: false,
    });

    writeFileSync(
      join(app, 'use.ts'),
      `import { createEngine, ServerError, type Engine, type EmbedResult } from 'hf-model-server';
const engine: Engine = await createEngine({ offline: true });
const e: EmbedResult = await engine.embed({ texts: ['x'] });
const dims: number = e.dims;
for await (const piece of engine.generateStream({ prompt: 'x' })) { const s: string = piece; void s; }
try { await engine.run('embed', {}); } catch (x) { if (x instanceof ServerError) { const c: string = x.code; const r: boolean = x.retryable; void c; void r; } }
await engine.close();
export { dims };
`,
    );
    writeFileSync(join(app, 'package.json'), '{"type":"module"}');
    const tsc = spawnSync(
      process.execPath,
      [
        join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc'),
        '--strict',
        '--noEmit',
        '--module',
        'nodenext',
        '--target',
        'es2022',
        '--skipLibCheck',
        'use.ts',
      ],
      { cwd: app, encoding: 'utf8', timeout: 120_000 },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  });

  it('createMcpServer connects to a transport of the caller’s choice; createHttpApp mounts in the application’s own HTTP server', () => {
    const app = mkdtempSync(join(tmpdir(), 'hfms-lib-mount-'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(process.cwd(), join(app, 'node_modules', 'hf-model-server'));
    symlinkSync(join(process.cwd(), 'node_modules', '@modelcontextprotocol'), join(app, 'node_modules', '@modelcontextprotocol'));
    const script = `
      import { createServer } from 'node:http';
      import { InMemoryTransport } from '@modelcontextprotocol/server';
      import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
      import { createEngine, createHttpApp, createMcpServer } from 'hf-model-server';
      const engine = await createEngine({ offline: true, modelsDir: ${JSON.stringify(makeModelsDir())}, cacheSize: '0', cacheDir: ${JSON.stringify(join(app, 'cache'))} });

      // In memory: the application's own transport.
      const mcp = createMcpServer(engine);
      const [a, b] = InMemoryTransport.createLinkedPair();
      await mcp.server.connect(a);
      const local = new Client({ name: 'app', version: '1' });
      await local.connect(b);
      const tools = (await local.listTools()).tools.map((t) => t.name);
      const tok = await local.callTool({ name: 'tokenize', arguments: { text: 'mounted' } });
      await local.close();
      await mcp.close();

      // Mounted: the application serves its own route and hands /mcp to the edge.
      const edge = createHttpApp(engine);
      const server = createServer((req, res) => (req.url === '/hello' ? res.end('hi') : edge.handle(req, res)));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const base = 'http://127.0.0.1:' + server.address().port;
      const hello = await (await fetch(base + '/hello')).text();
      const remote = new Client({ name: 'remote', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await remote.connect(new StreamableHTTPClientTransport(new URL(base + '/mcp')));
      const emb = await remote.callTool({ name: 'embed', arguments: { texts: ['over the mount'] } });
      const revision = remote.getNegotiatedProtocolVersion();
      const health = (await fetch(base + '/health')).status;
      await remote.close();
      await edge.close(1000);
      server.close();
      await engine.close();
      process.stdout.write(JSON.stringify({ tools: tools.includes('embed'), tokens: tok.structuredContent.tokens[0].length > 0, hello, revision, dims: emb.structuredContent.dims, health }));`;
    writeFileSync(join(app, 'mount.mjs'), script);
    const r = spawnSync(process.execPath, ['mount.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr.slice(-800)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ tools: true, tokens: true, hello: 'hi', revision: '2026-07-28', dims: 384, health: 200 });
  });
});
