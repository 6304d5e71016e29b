/**
 * The built CLI's first-minute behaviour: --version, --port implying HTTP, `call` naming the
 * tools when one is unknown, refusing misspelt argument keys, and printing only its result
 * (logs at warn unless asked).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
});
