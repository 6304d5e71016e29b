/**
 * MCP's tasks extension on the built CLI, with raw 2026-07-28 requests over HTTP and stdio: a
 * long tool called by a client that declares the extension is answered at once with a task,
 * which is polled to the same result a direct call gives, can be cancelled, reports its status,
 * and belongs to the credential that created it. Clients that do not declare the extension, and
 * tools that are not long, are answered as usual.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/server.js';
import { httpServers, rpcAnswer } from '../helpers/spawn.js';

const REVISION = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const meta = (withTasks: boolean) => ({
  'io.modelcontextprotocol/protocolVersion': REVISION,
  'io.modelcontextprotocol/clientInfo': { name: 'tasks', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': withTasks ? { extensions: { [TASKS]: {} } } : {},
});
const GEN = { model: 'distilgpt2', prompt: 'Once upon a time', max_new_tokens: 24 };

const servers = httpServers(childEnv);
afterEach(() => servers.killAll());
const serve = (env: Record<string, string> = {}) => servers.serve([], env);

type Rpc = { result?: Record<string, unknown>; error?: { code: number; message: string } };

/** One 2026-07-28 request over HTTP, with the routing headers (Mcp-Name: the tool or the task id). */
async function rpc(url: string, method: string, params: Record<string, unknown>, o: { tasks?: boolean; key?: string } = {}): Promise<Rpc> {
  const name = (params.name ?? params.taskId) as string | undefined;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': REVISION,
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
      ...(o.key ? { authorization: `Bearer ${o.key}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta(o.tasks ?? true) } }),
  });
  return rpcAnswer<Rpc>(res);
}

/** Polls tasks/get until the task leaves `working`. */
async function settle(get: () => Promise<Rpc>): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const r = await get();
    if (r.error) throw new Error(r.error.message);
    if (r.result!.status !== 'working') return r.result!;
    await new Promise((res) => setTimeout(res, Number(r.result!.pollIntervalMs ?? 50) / 20));
  }
  throw new Error('task still working');
}

describe('long calls as tasks (2026-07-28 tasks extension)', () => {
  it('over HTTP: a task at once, polled to the direct call’s result; other tools and other clients are answered in place', async () => {
    const s = await serve();
    const discover = await rpc(s.url, 'server/discover', {});
    expect((discover.result!.capabilities as { extensions: Record<string, unknown> }).extensions).toHaveProperty([TASKS]);

    const direct = await rpc(s.url, 'tools/call', { name: 'generate', arguments: GEN }, { tasks: false });
    expect(direct.result!.resultType).toBe('complete');
    const want = (direct.result!.structuredContent as { text: string }).text;

    const created = await rpc(s.url, 'tools/call', { name: 'generate', arguments: GEN });
    expect(created.result).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 15 * 60_000 });
    const taskId = created.result!.taskId as string;
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
    const done = await settle(() => rpc(s.url, 'tasks/get', { taskId }));
    expect(done.status).toBe('completed');
    const result = done.result as { structuredContent: { text: string }; isError?: boolean };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.text).toBe(want);
    // Still there for its time to live.
    expect((await rpc(s.url, 'tasks/get', { taskId })).result!.status).toBe('completed');

    // A tool that is not long is answered in place even when the client takes tasks.
    const embed = await rpc(s.url, 'tools/call', { name: 'embed', arguments: { texts: ['in place'] } });
    expect(embed.result!.resultType).toBe('complete');
    expect((embed.result!.structuredContent as { embeddings: number[][] }).embeddings).toHaveLength(1);

    // A failing call is a completed task whose result is the catalogued error.
    const bad = await rpc(s.url, 'tools/call', { name: 'generate', arguments: { ...GEN, model: 'no-such-model' } });
    const failed = await settle(() => rpc(s.url, 'tasks/get', { taskId: bad.result!.taskId as string }));
    expect(failed.status).toBe('completed');
    expect(JSON.stringify(failed.result)).toMatch(/unknown_model/);

    // An unknown task id is a protocol error.
    const unknown = await rpc(s.url, 'tasks/get', { taskId: 'not-a-task' });
    expect(unknown.error!.code).toBe(-32602);
  });

  it('a cancelled task ends cancelled and stays so; a task belongs to the key that created it', async () => {
    const s = await serve({ HF_MODEL_SERVER_API_KEYS: 'alice-key,bob-key' });
    const long = { ...GEN, max_new_tokens: 2048, max_time: 30 };
    const created = await rpc(s.url, 'tools/call', { name: 'generate', arguments: long }, { key: 'alice-key' });
    const taskId = created.result!.taskId as string;
    // Bob can neither see nor cancel Alice's task.
    expect((await rpc(s.url, 'tasks/get', { taskId }, { key: 'bob-key' })).error!.code).toBe(-32602);
    expect((await rpc(s.url, 'tasks/cancel', { taskId }, { key: 'bob-key' })).error!.code).toBe(-32602);
    expect((await rpc(s.url, 'tasks/get', { taskId }, { key: 'alice-key' })).result!.status).toBe('working');
    expect((await rpc(s.url, 'tasks/cancel', { taskId }, { key: 'alice-key' })).result).toBeDefined();
    const after = await rpc(s.url, 'tasks/get', { taskId }, { key: 'alice-key' });
    expect(after.result!.status).toBe('cancelled');
    expect(after.result).not.toHaveProperty('result');
  });

  it('over stdio: the same task flow on a 2026-07-28 connection', async () => {
    const child = spawn(process.execPath, ['dist/cli.js'], { env: childEnv({ HF_MODEL_SERVER_LOG_LEVEL: 'warn' }) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const replies = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Rpc & { id?: number });
    let id = 0;
    const call = async (method: string, params: Record<string, unknown>): Promise<Rpc> => {
      const my = ++id;
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: my, method, params: { ...params, _meta: meta(true) } })}\n`);
      let found: Rpc | undefined;
      await expect.poll(() => (found = replies().find((m) => m.id === my)), { timeout: 30_000, interval: 20 }).toBeTruthy();
      return found!;
    };
    try {
      const created = await call('tools/call', { name: 'generate', arguments: GEN });
      expect(created.result).toMatchObject({ resultType: 'task', status: 'working' });
      const done = await settle(() => call('tasks/get', { taskId: created.result!.taskId as string }));
      expect(done.status).toBe('completed');
      expect((done.result as { structuredContent: { text: string } }).structuredContent.text.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
