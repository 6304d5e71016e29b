/**
 * Graceful shutdown of the real process: SIGTERM while a request is in flight lets it complete,
 * then the process exits 0. Also: refusal to bind 0.0.0.0 without auth, from the CLI.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { makeModelsDir } from '../helpers/server.js';

const CLI = ['--import', 'tsx', join(process.cwd(), 'src/cli.ts')];

describe('process lifecycle', () => {
  it('SIGTERM under load: every request in flight completes, then the process exits 0', async () => {
    const env = { ...process.env, HF_MODEL_SERVER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'hfms-cache-')) };
    const child = spawn(
      process.execPath,
      [...CLI, '--transport', 'http', '--port', '0', '--offline', '--models-dir', makeModelsDir(), '--threads', '1'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listen line: ${err.slice(-500)}`)), 30_000);
      child.stderr.on('data', (d) => {
        err += d;
        const m = /"url":"(http:[^"]+)"/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    const post = (body: unknown, sid?: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(sid ? { 'mcp-session-id': sid } : {}),
        },
        body: JSON.stringify(body),
      });
    const init = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const sid = init.headers.get('mcp-session-id')!;
    await init.text();
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
    // Load the model first so the slow part is inference.
    await (
      await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'embed', arguments: { texts: ['warm'] } } }, sid)
    ).text();
    const texts = Array.from(
      { length: 256 },
      (_, i) => `sentence number ${i} about the weather and a model server that reads long documents for agents`,
    );
    const inFlight = [3, 4, 5, 6].map((id) =>
      post(
        {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'embed', arguments: { texts: texts.map((t) => `${t} ${id}`), encoding: 'base64' } },
        },
        sid,
      ).then((r) => r.text()),
    );
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGTERM');
    for (const body of await Promise.all(inFlight)) {
      expect(body).toContain('"embeddings"');
      expect(body).not.toContain('"isError":true');
    }
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(err).toMatch(/"msg":"shutting down"/);
  });

  it('--transport both: stdio and HTTP share one loader', async () => {
    const env = { ...(process.env as Record<string, string>), HF_MODEL_SERVER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'hfms-cache-')) };
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...CLI, '--transport', 'both', '--port', '0', '--offline', '--models-dir', makeModelsDir(), '--threads', '1'],
      env,
      stderr: 'pipe',
    });
    let err = '';
    transport.stderr?.on('data', (d) => (err += d));
    const stdio = new Client({ name: 'both-stdio', version: '1' });
    await stdio.connect(transport);
    await stdio.callTool({ name: 'load_model', arguments: { model: 'distilbert-sst2' } });
    const url = /"url":"(http:[^"]+)"/.exec(err)![1]!;
    const http = new Client({ name: 'both-http', version: '1' });
    await http.connect(new StreamableHTTPClientTransport(new URL(url)));
    const loaded = JSON.parse(((await http.readResource({ uri: 'hf://models/loaded' })).contents[0] as { text: string }).text);
    expect(loaded.models.map((m: { model: string }) => m.model)).toContain('distilbert-sst2');
    await http.close();
    await stdio.close();
  });

  it('refuses to bind 0.0.0.0 without auth, with the reason', () => {
    const r = spawnSync(process.execPath, [...CLI, '--transport', 'http', '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to listen on 0.0.0.0 without authentication/);
  });
});
