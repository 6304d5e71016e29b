/**
 * The real `hf-model-server` process over stdio: an SDK client through StdioClientTransport,
 * stdout carrying nothing but protocol messages, and the `call` and `--help` commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { childEnv } from '../helpers/server.js';

const CLI = ['--import', 'tsx', join(process.cwd(), 'src/cli.ts')];
let env: Record<string, string>;

beforeAll(() => {
  env = childEnv({ HF_MODEL_SERVER_LOG_LEVEL: 'debug' });
});

describe('stdio transport (child process)', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ name: 'stdio-test', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: CLI, env, stderr: 'pipe' }));
  });
  afterAll(async () => client.close());

  it('lists tools and answers embed and generate with progress', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('embed');
    const e = await client.callTool({ name: 'embed', arguments: { texts: ['hello world'] } });
    expect((e.structuredContent as { dims: number }).dims).toBe(384);
    const progress: unknown[] = [];
    const g = await client.callTool(
      { name: 'generate', arguments: { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 5 } },
      undefined,
      {
        onprogress: (p) => progress.push(p),
      },
    );
    expect(g.isError).toBeFalsy();
    expect(progress.length).toBeGreaterThan(0);
    const bad = await client.callTool({ name: 'embed', arguments: { texts: [] } });
    expect(bad.isError).toBe(true);
  });
});

describe('stdout purity', () => {
  it('carries only JSON-RPC messages, even with debug logging and model loads', async () => {
    const child = spawn(process.execPath, CLI, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'embed', arguments: { texts: ['a b c'] } } });
    send({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'generate', arguments: { model: 'distilgpt2', prompt: 'Hi', max_new_tokens: 3 }, _meta: { progressToken: 'p1' } },
    });
    send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'embed', arguments: { texts: ['x'], model: 'broken-embedder' } } });
    send({ jsonrpc: '2.0', id: 5, method: 'resources/read', params: { uri: 'hf://models' } });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout; stdout=${out.slice(-500)} stderr=${err.slice(-500)}`)), 30_000);
      const check = setInterval(() => {
        if ((out.match(/"id":5/g) ?? []).length > 0 && out.includes('"id":4') && out.includes('"id":3')) {
          clearInterval(check);
          clearTimeout(t);
          resolve();
        }
      }, 20);
    });
    child.stdin.end();
    await new Promise((r) => child.on('exit', r));
    const lines = out.split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines) {
      const msg = JSON.parse(line);
      expect(msg.jsonrpc).toBe('2.0');
    }
    expect(lines.some((l) => l.includes('notifications/progress'))).toBe(true);
    expect(err).toMatch(/"msg":"model loaded"/); // logs went to stderr
  });
});

describe('CLI commands', () => {
  it('call <tool> prints the JSON result and exits 0', () => {
    const r = spawnSync(process.execPath, [...CLI, 'call', 'similarity', JSON.stringify({ query: 'hello', documents: ['x', 'hello'] })], {
      env,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).results[0].index).toBe(1);
  });

  it('call with a bad request prints the error and exits 1', () => {
    const r = spawnSync(process.execPath, [...CLI, 'call', 'embed', '{"texts": []}'], { env, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('invalid_input');
  });

  it('--help prints usage; a bad flag exits 2 with one message', () => {
    const h = spawnSync(process.execPath, [...CLI, '--help'], { env, encoding: 'utf8' });
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/--models-dir DIR/);
    const b = spawnSync(process.execPath, [...CLI, '--device', 'tpu'], { env, encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/invalid device/);
  });
});
