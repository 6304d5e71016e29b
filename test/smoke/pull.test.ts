/**
 * `pull`, `add <hub id>` and first-use downloads with the built CLI, against a loopback stand-in
 * for the Hub (--hub-endpoint, test/helpers/hub.ts):
 * - pull fetches a skill's files into --cache-dir with progress lines (stderr is not a terminal)
 *   and a JSON summary; a second run fetches nothing; an unknown name fails with its code;
 * - a connection dropped midway through the weights is resumed with a Range request, in the same
 *   run, and the file is whole; a partial file left by an earlier run is resumed too;
 * - a model the hub does not have is a clear 404 error;
 * - a token (HF_TOKEN) is sent to the endpoint and never appears in any output, even at debug;
 * - `add <hub id>` infers the skill from the hub's file list and config, and the model then pulls;
 *   `pull <hub id>` of a model no skill names infers its skill on the way, without saving it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fixture } from '../helpers/fixtures.js';
import { startHub, type LoopbackHub } from '../helpers/hub.js';

const MODEL_DIR = fixture('bert');
const ID = 'Xenova/all-MiniLM-L6-v2';
const WEIGHTS = readFileSync(join(MODEL_DIR, 'onnx', 'model.onnx'));
let hub: LoopbackHub;
let secretHub: LoopbackHub;
const TOKEN = 'hf_test_SECRET_4f1c9a';

beforeAll(async () => {
  hub = await startHub({ [ID]: MODEL_DIR, 'someone/tiny-bert': MODEL_DIR });
  secretHub = await startHub({ [ID]: MODEL_DIR }, { token: TOKEN });
});
afterAll(async () => {
  await hub.close();
  await secretHub.close();
});

function files(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => statSync(join(dir, f)).isFile())
    : [];
}

/** Runs the built CLI (asynchronously: the hub answers from this process's event loop). */
function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { env: { PATH: process.env.PATH!, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const pull = (endpoint: string, cache: string, names: string[], env: Record<string, string> = {}) =>
  cli(['pull', ...names, '--hub-endpoint', endpoint, '--cache-dir', cache, '--threads', '1'], { HOME: cache, ...env });

describe('pull', () => {
  it('downloads into the cache once, then does nothing', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'hfms-pull-'));
    hub.requests.length = 0;
    const first = await pull(hub.endpoint, cache, ['all-minilm-l6-v2']);
    expect(first.status, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as Array<{ model: string; ok: boolean; dtype: string }>;
    expect(summary).toEqual([expect.objectContaining({ model: 'all-minilm-l6-v2', ok: true, dtype: 'fp32' })]);
    expect(first.stderr).toMatch(/all-minilm-l6-v2: download onnx\/model\.onnx 100%/);
    expect(first.stderr).toMatch(/all-minilm-l6-v2: ready/);
    const cached = files(cache);
    expect(cached.some((f) => f.endsWith('onnx/model.onnx'))).toBe(true);
    expect(cached.some((f) => f.endsWith('.incomplete'))).toBe(false);
    expect(hub.requests.some((r) => r.path.endsWith('/onnx/model.onnx'))).toBe(true);

    hub.requests.length = 0;
    const second = await pull(hub.endpoint, cache, [ID]); // by Hub id this time
    expect(second.status, second.stderr).toBe(0);
    expect(hub.requests).toEqual([]);
    expect(files(cache)).toEqual(cached);

    const bad = await pull(hub.endpoint, cache, ['no-such-model']);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)[0].error.code).toBe('unknown_model');
    // A Hub id no skill names is pulled through a skill inferred for it (not saved); a missing one is the hub's 404.
    const unnamed = await pull(hub.endpoint, cache, ['someone/tiny-bert', 'nobody/not-there']);
    expect(unnamed.status).toBe(1);
    const [tiny, missing] = JSON.parse(unnamed.stdout) as Array<{ model: string; ok: boolean; error?: { code: string; message: string } }>;
    expect(tiny).toMatchObject({ model: 'tiny-bert', ok: true });
    expect(readFileSync(join(cache, 'someone/tiny-bert', 'onnx', 'model.onnx')).equals(WEIGHTS)).toBe(true);
    expect(missing).toMatchObject({ model: 'nobody/not-there', ok: false, error: { code: 'model_not_found' } });
    expect(missing!.error!.message).toMatch(/has no model "nobody\/not-there" \(404/);
    expect(existsSync(join(cache, '.config', 'hf-model-server', 'skills', 'tiny-bert.json'))).toBe(false);

    // A skill whose Hub id the hub does not have: the files are missing, and the URL says where.
    const skills = mkdtempSync(join(tmpdir(), 'hfms-pull-skills-'));
    writeFileSync(
      join(skills, 'gone.json'),
      JSON.stringify({
        name: 'gone',
        family: 'bert',
        architecture: 'encoder-only',
        tasks: ['feature-extraction'],
        description: 'x',
        model: { id: 'nobody/gone' },
      }),
    );
    const gone = await pull(hub.endpoint, cache, ['gone', '--skills-dir', skills]);
    expect(gone.status).toBe(1);
    const err = JSON.parse(gone.stdout)[0].error as { code: string; message: string };
    expect(err.code).toBe('model_not_found');
    expect(err.message).toContain(`${hub.endpoint}/nobody/gone/resolve/main/`);
  }, 120_000);

  it('resumes a download whose connection dropped midway, in the same run, with a whole file', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'hfms-pull-drop-'));
    const half = Math.floor(WEIGHTS.length / 2);
    hub.dropOnce('onnx/model.onnx', half);
    hub.requests.length = 0;
    const r = await pull(hub.endpoint, cache, ['all-minilm-l6-v2']);
    expect(r.status, r.stderr).toBe(0);
    // Whole-file GETs of the weights (transformers.js also probes the size with bytes=0-0).
    const gets = hub.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/onnx/model.onnx') && q.range !== 'bytes=0-0');
    expect(gets.map((q) => q.range)).toEqual([undefined, `bytes=${half}-`]);
    expect(readFileSync(join(cache, ID, 'onnx', 'model.onnx')).equals(WEIGHTS)).toBe(true);
  }, 120_000);

  it('resumes a partial file an earlier run left behind', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'hfms-pull-partial-'));
    const part = join(cache, ID, 'onnx', 'model.onnx.incomplete');
    mkdirSync(dirname(part), { recursive: true });
    const third = Math.floor(WEIGHTS.length / 3);
    writeFileSync(part, WEIGHTS.subarray(0, third));
    hub.requests.length = 0;
    const r = await pull(hub.endpoint, cache, ['all-minilm-l6-v2']);
    expect(r.status, r.stderr).toBe(0);
    const gets = hub.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/onnx/model.onnx') && q.range !== 'bytes=0-0');
    expect(gets.map((q) => q.range)).toEqual([`bytes=${third}-`]);
    expect(readFileSync(join(cache, ID, 'onnx', 'model.onnx')).equals(WEIGHTS)).toBe(true);
    expect(existsSync(part)).toBe(false);
  }, 120_000);

  it('sends the token to the endpoint and never prints it; without it the error says what to set', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'hfms-pull-token-'));
    const ok = await pull(secretHub.endpoint, cache, ['all-minilm-l6-v2', '--log-level', 'debug'], { HF_TOKEN: TOKEN });
    expect(ok.status, ok.stderr).toBe(0);
    expect(secretHub.requests.length).toBeGreaterThan(0);
    expect(secretHub.requests.every((q) => q.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(ok.stdout + ok.stderr).not.toContain(TOKEN);
    expect(ok.stdout + ok.stderr).not.toContain(TOKEN.slice(3, 15));

    const home = mkdtempSync(join(tmpdir(), 'hfms-add-token-'));
    const denied = await cli(['add', 'Xenova/all-MiniLM-L6-v2', '--hub-endpoint', secretHub.endpoint], { HOME: home });
    expect(denied.status).toBe(2);
    expect(denied.stderr).toMatch(/model_not_found.*401.*HF_TOKEN/);
  }, 120_000);

  it('add <hub id> infers the skill from the hub, and the model then pulls; a missing model is a clear 404', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hfms-add-hub-'));
    const added = await cli(['add', 'someone/tiny-bert', '--hub-endpoint', hub.endpoint], { HOME: home });
    expect(added.status, added.stderr).toBe(0);
    const { skill, file } = JSON.parse(added.stdout) as { file: string; skill: { name: string; tasks: string[]; model: { id: string } } };
    expect(skill).toMatchObject({ name: 'tiny-bert', tasks: ['feature-extraction'], model: { id: 'someone/tiny-bert' } });
    expect(existsSync(file)).toBe(true);
    const pulled = await cli(['pull', 'tiny-bert', '--hub-endpoint', hub.endpoint, '--cache-dir', join(home, 'cache')], { HOME: home });
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(readFileSync(join(home, 'cache', 'someone/tiny-bert', 'onnx', 'model.onnx')).equals(WEIGHTS)).toBe(true);

    const missing = await cli(['add', 'nobody/not-there', '--hub-endpoint', hub.endpoint], { HOME: home });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/model_not_found: the hub at http:\/\/127\.0\.0\.1:\d+ has no model "nobody\/not-there" \(404/);
    const offline = await cli(['add', 'someone/tiny-bert', '--offline'], { HOME: home });
    expect(offline.stderr).toMatch(/needs the hub: run without --offline/);
  }, 120_000);

  it.skipIf(!existsSync('/usr/bin/script'))(
    'on a terminal, progress is one rewritten line with a bar',
    async () => {
      const cache = mkdtempSync(join(tmpdir(), 'hfms-pull-tty-'));
      // util-linux `script` runs the CLI on a pseudo-terminal, so stderr.isTTY is true.
      const cmd = [
        process.execPath,
        'dist/cli.js',
        'pull',
        'all-minilm-l6-v2',
        '--hub-endpoint',
        hub.endpoint,
        '--cache-dir',
        cache,
        '--threads',
        '1',
      ]
        .map((a) => `'${a}'`)
        .join(' ');
      const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
        const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: { PATH: process.env.PATH!, HOME: cache } });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('close', (status) => resolve({ status, out }));
      });
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('\r\u001b[2Kall-minilm-l6-v2: download onnx/model.onnx [');
      expect(r.out).toMatch(/\[#{20}\] 100%/);
      expect(r.out).not.toMatch(/^all-minilm-l6-v2: download onnx\/model\.onnx 25%$/m); // not the plain lines
    },
    120_000,
  );
});
