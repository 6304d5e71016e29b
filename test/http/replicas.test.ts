/**
 * Replicas as a Kubernetes Service runs them: three built servers with --stateless behind a
 * round-robin proxy written here (a connection to a dead replica is reset, and a replica that
 * refuses connections leaves the rotation, as with a Service). A bounded mixed load (OpenAI
 * embeddings, greedy completions, TEI rerank, and stateless 2026-07-28 MCP tool calls, each a
 * POST with the revision in its `_meta` and no session) runs through it
 * while one replica gets SIGTERM and, later, another gets SIGKILL. Clients follow the retry
 * policy the README documents: idempotent calls are retried on 503 and on connection errors,
 * after Retry-After when given. No request may be lost or answered wrongly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { childEnv } from '../helpers/server.js';
import { rpcAnswer, spawnServer, type SpawnedServer } from '../helpers/spawn.js';

type Replica = SpawnedServer;

const startReplica = (env: Record<string, string>): Promise<Replica> =>
  spawnServer(['--transport', 'http', '--port', '0', '--stateless', '--log-level', 'info', '--shutdown-grace', '5s'], env);

/**
 * A round-robin proxy: each request goes to the next replica; a failed upstream resets the
 * client's connection, and a replica that refuses connections leaves the rotation (as the
 * endpoints controller removes a terminated pod from a Service).
 */
function roundRobin(initial: number[]) {
  const ports = [...initial];
  let next = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const port = ports[next++ % ports.length]!;
    const up = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: { ...req.headers, host: `127.0.0.1:${port}` } },
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
        r.on('error', () => res.destroy());
      },
    );
    up.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED' && ports.includes(port) && ports.length > 1) ports.splice(ports.indexOf(port), 1);
      res.socket?.destroy();
    });
    req.pipe(up);
  });
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  );
}

/** The documented client policy: retry on 503 or a connection error, after Retry-After (capped here). */
async function withRetry(call: () => Promise<Response>, counts: { retries: number }): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await call();
      if (r.status !== 503 || attempt >= 8) return r;
      const wait = Math.min(1000, Number(r.headers.get('retry-after') ?? 0) * 1000 || 100);
      await r.body?.cancel();
      await new Promise((res) => setTimeout(res, wait));
    } catch (e) {
      if (attempt >= 8) throw e;
      await new Promise((res) => setTimeout(res, 50 * (attempt + 1)));
    }
    counts.retries++;
  }
}

const replicas: Replica[] = [];
afterAll(() => {
  for (const r of replicas) r.child.kill('SIGKILL');
});

const REVISION = '2026-07-28';
const MCP_HEADERS = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': REVISION, 'mcp-method': 'tools/call' };
/** A 2026-07-28 tools/call: no initialize and no session, so any replica can answer it. */
const mcpCall = (name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name,
    arguments: args,
    _meta: {
      'io.modelcontextprotocol/protocolVersion': REVISION,
      'io.modelcontextprotocol/clientInfo': { name: 'replicas', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});

describe('three stateless replicas behind a round-robin proxy', () => {
  it('lose no request and answer none wrongly while one gets SIGTERM and another SIGKILL', async () => {
    const env = childEnv();
    replicas.push(...(await Promise.all([startReplica(env), startReplica(env), startReplica(env)])));
    const proxy = await roundRobin(replicas.map((r) => r.port));
    const headers = (path: string, body: unknown) => ({
      'content-type': 'application/json',
      ...(path === '/mcp' ? { ...MCP_HEADERS, 'mcp-name': (body as { params: { name: string } }).params.name } : {}),
    });
    const post = (path: string, body: unknown) =>
      fetch(`${proxy.url}${path}`, { method: 'POST', headers: headers(path, body), body: JSON.stringify(body) });

    // Expected answers, from one replica directly before the load.
    const direct = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${replicas[0]!.port}${path}`, {
        method: 'POST',
        headers: headers(path, body),
        body: JSON.stringify(body),
      }).then(rpcAnswer);
    const texts = Array.from({ length: 8 }, (_, i) => `sentence number ${i} about models and tools`);
    const jobs = [
      ...texts.map((t) => ({ path: '/v1/embeddings', body: { model: 'all-minilm-l6-v2', input: t, encoding_format: 'float' } })),
      { path: '/v1/completions', body: { model: 'distilgpt2', prompt: 'Hello', max_tokens: 6, temperature: 0 } },
      { path: '/rerank', body: { query: 'models', texts } },
      ...texts.slice(0, 4).map((t) => ({ path: '/mcp', body: mcpCall('embed', { texts: [t] }) })),
      { path: '/mcp', body: mcpCall('generate', { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 6 }) },
    ];
    const mcpKey = (r: Record<string, unknown>) => {
      const sc = (r.result as { structuredContent?: { embeddings?: number[][]; text?: string } } | undefined)?.structuredContent;
      return sc?.embeddings ? JSON.stringify(sc.embeddings[0]!.slice(0, 8)) : String(sc?.text);
    };
    const key = (path: string, r: Record<string, unknown>) =>
      path === '/mcp'
        ? mcpKey(r)
        : path === '/v1/embeddings'
          ? JSON.stringify((r.data as Array<{ embedding: number[] }>)[0]!.embedding.slice(0, 8))
          : path === '/v1/completions'
            ? (r.choices as Array<{ text: string }>)[0]!.text
            : JSON.stringify((r as unknown as Array<{ index: number }>).map((x) => x.index));
    const expected = await Promise.all(jobs.map(async (j) => key(j.path, await direct(j.path, j.body))));
    // Every job has a real answer to compare with (a refused call would key as "undefined").
    expect(expected.filter((e) => e === undefined || e === 'undefined')).toEqual([]);

    const total = 240;
    const counts = { ok: 0, wrong: 0, failed: 0, retries: 0 };
    let done = 0;
    let next = 0;
    const killed: string[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < total) {
          const i = next++;
          const j = jobs[i % jobs.length]!;
          try {
            const r = await withRetry(() => post(j.path, j.body), counts);
            const body = await rpcAnswer(r);
            if (r.status === 200 && key(j.path, body) === expected[i % jobs.length]) counts.ok++;
            else counts.wrong++;
          } catch {
            counts.failed++;
          }
          done++;
          if (done === Math.floor(total / 3)) {
            replicas[0]!.child.kill('SIGTERM');
            killed.push('SIGTERM');
          }
          if (done === Math.floor((2 * total) / 3)) {
            replicas[1]!.child.kill('SIGKILL');
            killed.push('SIGKILL');
          }
        }
      }),
    );
    await proxy.close();
    process.stderr.write(`replicas: ${JSON.stringify({ total, ...counts, signals: killed })}\n`);
    expect(killed).toEqual(['SIGTERM', 'SIGKILL']);
    expect(counts).toMatchObject({ ok: total, wrong: 0, failed: 0 });
    expect(counts.retries).toBeGreaterThan(0);
    const code = await new Promise((r) =>
      replicas[0]!.child.exitCode !== null ? r(replicas[0]!.child.exitCode) : replicas[0]!.child.on('exit', r),
    );
    expect(code).toBe(0); // the SIGTERM'd replica drained and exited cleanly
  }, 180_000);
});
