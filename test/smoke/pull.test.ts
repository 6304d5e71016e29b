/**
 * `hf-model-server pull` with the built CLI, against a loopback file server standing in for the
 * Hub (--hub-endpoint): it fetches the skill's files into --cache-dir, prints progress as lines
 * when stderr is not a terminal and a JSON summary on stdout; a second run fetches nothing; an
 * unknown name fails with its code.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createReadStream, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/fixtures.js';

const MODEL_DIR = fixture('bert');
const requests: string[] = [];
const server = createServer((req, res) => {
  requests.push(req.url ?? '');
  const m = /^\/Xenova\/all-MiniLM-L6-v2\/resolve\/main\/(.+)$/.exec(decodeURIComponent(req.url ?? ''));
  const file = m && join(MODEL_DIR, m[1]!);
  if (!file || file.includes('..') || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-length': String(statSync(file).size) });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function files(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => statSync(join(dir, f)).isFile())
    : [];
}

describe('pull', () => {
  it('downloads into the cache once, then does nothing', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cache = mkdtempSync(join(tmpdir(), 'hfms-pull-'));
    // Asynchronous: the file server answers from this process's event loop.
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['dist/cli.js', 'pull', ...args, '--hub-endpoint', endpoint, '--cache-dir', cache, '--threads', '1'],
          {
            env: { PATH: process.env.PATH!, HOME: cache },
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const first = await run('all-minilm-l6-v2');
    expect(first.status, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as Array<{ model: string; ok: boolean; dtype: string }>;
    expect(summary).toEqual([expect.objectContaining({ model: 'all-minilm-l6-v2', ok: true, dtype: 'fp32' })]);
    expect(first.stderr).toMatch(/all-minilm-l6-v2: download onnx\/model\.onnx 100%/);
    expect(first.stderr).toMatch(/all-minilm-l6-v2: ready/);
    const cached = files(cache);
    expect(cached.some((f) => f.endsWith('onnx/model.onnx'))).toBe(true);
    expect(requests.some((u) => u.endsWith('/onnx/model.onnx'))).toBe(true);

    requests.length = 0;
    const second = await run('Xenova/all-MiniLM-L6-v2'); // by Hub id this time
    expect(second.status, second.stderr).toBe(0);
    expect(requests).toEqual([]);
    expect(files(cache)).toEqual(cached);

    const bad = await run('no-such-model');
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)[0].error.code).toBe('unknown_model');
  }, 120_000);
});
