/**
 * The built server as users run it: `node dist/cli.js`, a child process under plain Node, whose
 * module interop differs from vitest's (a namespace import that worked here once failed there).
 * Every tool runs over stdio through an SDK client, every shipped media fixture through the tool
 * that takes it, the REST routes answer over HTTP (the openai package, multipart, /docs files), and
 * the `call` command runs the exact reproduction. `npm test` builds
 * first (pretest); a stale build fails here rather than testing old code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../src/config/config.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import OpenAI, { toFile } from 'openai';
import { childEnv } from '../helpers/server.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn.js';
import { PAGE, SIGN, SPEECH, TRUTH, squash } from '../helpers/media.js';

const CLI = join(process.cwd(), 'dist/cli.js');
const AUDIO = [
  'test/fixtures/media/tone.mp3',
  'test/fixtures/media/tone.ogg',
  'test/fixtures/media/tone.flac',
  'test/fixtures/media/tone-44k-stereo.wav',
  SPEECH,
];
const IMAGES = [PAGE, SIGN];

function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir).map((f) => {
      const p = join(dir, f);
      const s = statSync(p);
      return s.isDirectory() ? newest(p) : s.mtimeMs;
    }),
  );
}

let env: Record<string, string>;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it first)');
  if (newest('src') > statSync(CLI).mtimeMs && newest('src') > newest('dist'))
    throw new Error('dist/ is older than src/: run `npm run build`');
  env = childEnv({ HF_MODEL_SERVER_ALLOW_DIR: process.cwd(), HF_MODEL_SERVER_LOG_LEVEL: 'warn' });
});

const b64 = (f: string) => readFileSync(f).toString('base64');

describe('built CLI over stdio: every tool', () => {
  let client: Client;
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (r.isError) throw new Error(`${name} failed: ${(r.content[0] as { text: string }).text}`);
    return r.structuredContent as Record<string, unknown>;
  };
  beforeAll(async () => {
    client = new Client({ name: 'smoke', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: 'pipe' }));
    await client.listTools(); // the client then checks each structured result against its schema
  });
  afterAll(async () => client?.close());

  it('lists every tool', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    // register_model is off unless a flag enables it (test/server/register-model.test.ts, smoke/hot-reload).
    expect(names).toEqual(TOOL_NAMES.filter((n) => n !== 'register_model').sort());
  });

  it('hf://hardware reports each candidate device as probed by a real session', async () => {
    const r = await client.readResource({ uri: 'hf://hardware' });
    const hw = JSON.parse((r.contents[0] as { text: string }).text) as {
      runtime: { usable: string[]; verified: Record<string, { ok: boolean; reason?: string }> };
      threads: unknown;
    };
    expect(hw.runtime.verified.cpu).toEqual({ ok: true });
    // The thread plan, as the built server reports it (the test environment pins one thread).
    expect(hw.threads).toEqual({ intraOpThreads: 1, encoderThreads: 1, encoderReplicas: 1 });
    for (const [device, v] of Object.entries(hw.runtime.verified)) {
      expect(hw.runtime.usable.includes(device), device).toBe(v.ok);
      if (!v.ok) expect(v.reason, device).toBeTruthy();
    }
  });

  it('text tools: embed, similarity, classify, generate', async () => {
    expect((await call('embed', { texts: ['hello world'] })).dims).toBe(384);
    expect(
      ((await call('similarity', { query: 'hello', documents: ['x y z', 'hello'] })).results as Array<{ index: number }>)[0]!.index,
    ).toBe(1);
    expect((await call('classify', { text: 'a fine day' })).results).toHaveLength(1);
    const g = await call('generate', { model: 'distilgpt2', prompt: 'Hello', max_new_tokens: 4 });
    expect((g.usage as { completion_tokens: number }).completion_tokens).toBeGreaterThan(0);
  });

  it('model management: load, benchmark, unload', async () => {
    expect((await call('load_model', { model: 'all-minilm-l6-v2' })).status).toBe('loaded');
    expect(await call('benchmark_model', { model: 'all-minilm-l6-v2', iterations: 2 })).toBeTruthy();
    expect((await call('unload_model', { model: 'all-minilm-l6-v2' })).result).toBe('unloaded');
  });

  it.each(IMAGES)('image fixture %s: ocr by path and base64, detect text boxes, classify', async (file) => {
    const name = file.split('/').pop() as 'ocr-page.png' | 'ocr-sign.png';
    const o = await call('ocr', { image: file });
    expect(squash(String(o.text))).toContain(squash(TRUTH[name][0]!));
    expect((await call('ocr', { image_base64: b64(file) })).text).toBe(o.text);
    expect((await call('detect', { image: file, model: 'paddleocr-v4' })).detections).toHaveLength(TRUTH[name].length);
    expect(((await call('classify', { image: file, model: 'vit-base-patch16-224' })).results as unknown[]).length).toBe(1);
    expect(((await call('classify', { image: file })).results as unknown[]).length).toBe(1);
    expect((await call('detect', { image: file, model: 'detr-resnet-50', threshold: 0 })).mode).toBe('objects');
  });

  it.each(AUDIO)('audio fixture %s: detect_speech and transcribe, by path and base64', async (file) => {
    const d = await call('detect_speech', { audio: file });
    expect(Number(d.duration)).toBeGreaterThan(1);
    expect(await call('detect_speech', { audio_base64: b64(file) })).toEqual(d);
    const t = await call('transcribe', { audio: file, max_new_tokens: 4 });
    expect(Number(t.duration)).toBeCloseTo(Number(d.duration), 1);
  });

  it('speech.wav: the spoken spans are found', async () => {
    const d = await call('detect_speech', { audio: SPEECH });
    expect((d.segments as unknown[]).length).toBe(TRUTH['speech.wav'].spoken.length);
  });
});

describe('built CLI: call', () => {
  const run = (tool: string, args: unknown) =>
    spawnSync(process.execPath, [CLI, 'call', tool, JSON.stringify(args)], { env, encoding: 'utf8', timeout: 60_000 });

  it('detect_speech on an MP3 (resampled from 44.1 kHz) succeeds', () => {
    const r = run('detect_speech', { audio: 'test/fixtures/media/tone.mp3' });
    expect(r.stderr).not.toMatch(/is not a function/);
    expect(r.status, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).duration).toBeCloseTo(1.5, 1);
  });

  it('embed with two replicas per encoder (HF_MODEL_SERVER_REPLICAS=2) gives what one session gives', () => {
    const args = { texts: ['replicas in the built CLI', 'a second text'] };
    const one = run('embed', args);
    const two = spawnSync(process.execPath, [CLI, 'call', 'embed', JSON.stringify(args)], {
      env: { ...env, HF_MODEL_SERVER_REPLICAS: '2' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    expect(JSON.parse(two.stdout).embeddings).toEqual(JSON.parse(one.stdout).embeddings);
  });

  it('ocr reads the shipped page', () => {
    const r = run('ocr', { image: PAGE });
    expect(r.status, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).lines).toHaveLength(TRUTH['ocr-page.png'].length);
  });
});

describe('built CLI over HTTP: the REST routes', () => {
  let server: SpawnedServer;
  let base: string;
  beforeAll(async () => {
    server = await spawnServer(['--transport', 'http', '--port', '0', '--log-level', 'info'], env);
    base = server.base;
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await new Promise((r) => server?.child.on('exit', r));
  });

  it('OpenAI routes through the openai package: embeddings, a streamed chat, a multipart transcription', async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'none', maxRetries: 0 });
    const e = await client.embeddings.create({ model: 'all-minilm-l6-v2', input: ['hello world', 'good night'] });
    expect(e.data.map((d) => d.embedding.length)).toEqual([384, 384]);
    const stream = await client.chat.completions.create({
      model: 'tiny-chat',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 6,
      temperature: 0,
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    const whole = await client.chat.completions.create({
      model: 'tiny-chat',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 6,
      temperature: 0,
    });
    expect(text).toBe(whole.choices[0]!.message.content);
    const srt = await client.audio.transcriptions.create({
      file: await toFile(readFileSync(SPEECH), 'speech.wav'),
      model: 'whisper-tiny',
      response_format: 'srt',
    });
    expect(String(srt)).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> /);
  });

  it('TEI routes, a multipart task route, the API description and the /docs files', async () => {
    const rerank = await fetch(`${base}/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'hello', texts: ['x y z', 'hello'] }),
    });
    expect(((await rerank.json()) as Array<{ index: number }>)[0]!.index).toBe(1);
    const form = new FormData();
    form.set('image', new Blob([readFileSync(PAGE)]), 'page.png');
    const ocr = (await (await fetch(`${base}/v1/ocr`, { method: 'POST', body: form })).json()) as { lines: unknown[] };
    expect(ocr.lines).toHaveLength(TRUTH['ocr-page.png'].length);
    expect(((await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string }).openapi).toBe('3.1.0');
    for (const f of ['/docs', '/docs/init.js', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js']) {
      const r = await fetch(`${base}${f}`);
      expect(r.status, f).toBe(200);
      expect((await r.arrayBuffer()).byteLength, f).toBeGreaterThan(100);
    }
    // With the trailing slash people type, the page is one redirect away, and it is the same page.
    const slash = await fetch(`${base}/docs/`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(new URL(slash.headers.get('location')!, `${base}/docs/`).pathname).toBe('/docs');
    expect((await fetch(`${base}/docs/`)).url).toBe(`${base}/docs`);
  });
});
