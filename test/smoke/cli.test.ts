/**
 * The built CLI's first-minute behaviour: --version, --port implying HTTP, `call` naming the
 * tools when one is unknown, refusing misspelt argument keys, and printing only its result
 * (logs at warn unless asked).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/server.js';

const CLI = join(process.cwd(), 'dist/cli.js');
let env: Record<string, string>;
beforeAll(() => {
  env = childEnv();
});
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 });

describe('built CLI: first minutes', () => {
  it('--version prints the package version', () => {
    const r = run('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('--port without --transport serves HTTP, and says so', async () => {
    const child = spawn(process.execPath, [CLI, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no HTTP listener: ${err.slice(-400)}`)), 20_000);
      child.stderr.on('data', () => {
        const m = /"url":"(http:[^"]+)"/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    expect(err).toMatch(/--port given without --transport: serving HTTP/);
    expect((await fetch(url.replace('/mcp', '/health'))).status).toBe(200);
    // The HTTP framework is used through options it has not deprecated: no process warning on stderr.
    expect(err).not.toMatch(/Deprecation|Warning:|FSTDEP/);
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  });

  it('call with an unknown tool lists the tools; an unknown argument key is reported', () => {
    const t = run('call', 'embedd', '{}');
    expect(t.status).toBe(1);
    const e = JSON.parse(t.stdout).error;
    expect(e.code).toBe('unknown_tool');
    expect(e.message).toMatch(/tools: .*embed.*similarity/);
    const a = run('call', 'embed', '{"text": ["hello"]}');
    expect(a.status).toBe(1);
    expect(JSON.parse(a.stdout).error).toMatchObject({ code: 'invalid_input' });
    expect(JSON.parse(a.stdout).error.message).toMatch(/unknown argument "text" for embed; valid: texts/);
  });

  it('call prints its result with no info log lines; --log-level info brings them back', () => {
    const quiet = run('call', 'embed', '{"texts": ["hello"]}');
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).not.toMatch(/"level":30/);
    const loud = run('call', 'embed', '{"texts": ["hello"]}', '--log-level', 'info');
    expect(loud.stderr).toMatch(/"level":30/);
  });

  it('help lists every command; a mistyped flag, command or skill name gets the nearest; add --help says it takes Hub ids', () => {
    const h = run('help');
    expect(h.status).toBe(0);
    for (const c of ['call', 'add', 'list', 'rm', 'pull']) expect(h.stdout).toMatch(new RegExp(`hf-model-server ${c}\\b`));
    const flag = run('--prot', '8080');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/unknown option --prot; did you mean --port\?/);
    expect(run('lsit').stderr).toMatch(/did you mean list\?/);
    const add = run('add', '--help');
    expect(add.status).toBe(0);
    expect(add.stdout).toMatch(/add <folder\|org\/name>/);
    expect(add.stdout).toMatch(/Hub id/);
    const rm = run('rm', 'all-minilm-l6-v2');
    expect(rm.status).toBe(2);
    expect(rm.stderr).toMatch(/built in and cannot be removed/);
    expect(rm.stderr).not.toMatch(/override/);
    expect(run('rm', 'minilm').stderr).toMatch(/did you mean all-minilm-l6-v2\?/);
  });

  it('over MCP, an unknown tool is a protocol error (-32602) that lists the tools', async () => {
    const child = spawn(process.execPath, [CLI], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'embedd', arguments: {} } });
    await expect.poll(() => /"id":1/.test(out), { timeout: 20_000 }).toBe(true);
    const reply = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id?: number; error?: { code: number; message: string } })
      .find((m) => m.id === 1)!;
    expect(reply.error?.code).toBe(-32602);
    expect(reply.error?.message).toMatch(/Unknown tool "embedd"; the tools are: .*embed.*similarity/);
    child.kill();
  });

  it('pull and add of a Hub id with the hub unreachable give the tool call advice, and pull says it once', () => {
    const hub = ['--hub-endpoint', 'http://127.0.0.1:9', '--cache-dir', mkdtempSync(join(tmpdir(), 'hfms-pull-'))];
    const offlineOff = { ...env, HF_MODEL_SERVER_OFFLINE: '0', HF_MODEL_SERVER_MODELS_DIR: mkdtempSync(join(tmpdir(), 'hfms-empty-')) };
    const p = spawnSync(process.execPath, [CLI, 'pull', 'all-minilm-l6-v2', ...hub], {
      env: offlineOff,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(p.status).toBe(1);
    expect(p.stderr.match(/could not reach the model hub/g)).toHaveLength(1);
    expect(p.stderr).toMatch(/--models-dir/);
    expect(JSON.parse(p.stdout)[0].error.code).toBe('hub_unreachable');
    const a = spawnSync(process.execPath, [CLI, 'add', 'someone/some-model', ...hub], {
      env: offlineOff,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/hub_unreachable: could not reach the model hub/);
    expect(a.stderr).toMatch(/--models-dir as org\/name\/ and run with --offline/);
  });
});
