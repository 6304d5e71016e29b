/**
 * The OpenAI-compatible routes through the real `openai` package on loopback, compared with the
 * MCP tools on the same server: embeddings (float and base64) equal `embed`, a greedy completion
 * equals `generate`, a streamed chat equals the whole one, an aborted stream stops generating,
 * transcription in every response format, and each error status the SDK maps to a class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHttpApps, startHttpApp } from '../helpers/http.js';
import { testSkills } from '../helpers/server.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { readFileSync } from 'node:fs';
import OpenAI, { toFile } from 'openai';
import { SignJWT } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SPEECH } from '../helpers/media.js';

afterAll(closeHttpApps);

const start = startHttpApp;

const openai = (base: string, apiKey = 'none') => new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });

async function mcp(url: string) {
  const client = new Client({ name: 'rest-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return {
    call: async (name: string, args: Record<string, unknown>) => {
      const r = await client.callTool({ name, arguments: args });
      if (r.isError) throw new Error(JSON.stringify(r.content));
      return r.structuredContent as Record<string, unknown>;
    },
    close: () => client.close(),
  };
}

describe('OpenAI-compatible REST', () => {
  let s: Awaited<ReturnType<typeof start>>;
  let tools: Awaited<ReturnType<typeof mcp>>;
  beforeAll(async () => {
    // A wider GPT-2 with a long context: a generation that takes seconds, so an abort lands mid-way.
    const slow = {
      name: 'slow-gen',
      family: 'gpt2',
      architecture: 'decoder-only',
      tasks: ['text-generation'],
      description: 'Generated GPT-2, wide enough to generate slowly.',
      model: { id: ensureModel({ arch: 'gpt2', seed: 2, overrides: { hidden: 384, layers: 4, heads: 6, maxPos: 1024 } }) },
    };
    s = await startHttpApp({}, { skills: { ...testSkills(), 'slow.json': slow } });
    tools = await mcp(s.http.url);
  });
  afterAll(() => tools.close());

  it('lists every skill as a model, and one by name or Hub id', async () => {
    const client = openai(s.base);
    const list = await client.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(s.app.deps.registry.skills.map((r) => r.skill.name));
    const one = await client.models.retrieve('all-minilm-l6-v2');
    expect(one.id).toBe('all-minilm-l6-v2');
    expect((one as unknown as { tasks: string[] }).tasks).toContain('feature-extraction');
    const byHubId = await client.models.retrieve('Xenova/all-MiniLM-L6-v2');
    expect(byHubId.id).toBe('all-minilm-l6-v2');
  });

  it('embeddings, float and base64 (the SDK default), equal the MCP embed vectors', async () => {
    const texts = ['the cat sat on the mat', 'a stock market report'];
    const want = (await tools.call('embed', { texts, model: 'all-minilm-l6-v2' })).embeddings as number[][];
    const client = openai(s.base);
    const float = await client.embeddings.create({ model: 'all-minilm-l6-v2', input: texts, encoding_format: 'float' });
    expect(float.data.map((d) => d.embedding)).toEqual(want);
    expect(float.usage.prompt_tokens).toBeGreaterThan(texts.length);
    const b64 = await client.embeddings.create({ model: 'all-minilm-l6-v2', input: texts });
    b64.data.forEach((d, i) => {
      expect(d.index).toBe(i);
      d.embedding.forEach((x, j) => expect(x).toBeCloseTo(want[i]![j]!, 6));
    });
    const short = await client.embeddings.create({
      model: 'Xenova/all-MiniLM-L6-v2',
      input: texts[0]!,
      dimensions: 8,
      encoding_format: 'float',
    });
    expect(short.data[0]!.embedding).toHaveLength(8);
    expect(Math.hypot(...short.data[0]!.embedding)).toBeCloseTo(1, 5);
  });

  it('a greedy completion equals the MCP generate text', async () => {
    const want = await tools.call('generate', { model: 'distilgpt2', prompt: 'Once upon a time', max_new_tokens: 12 });
    const c = await openai(s.base).completions.create({ model: 'distilgpt2', prompt: 'Once upon a time', max_tokens: 12, temperature: 0 });
    expect(c.object).toBe('text_completion');
    expect(c.choices[0]!.text).toBe(want.text);
    expect(c.choices[0]!.finish_reason).toBe(want.finish_reason === 'length' ? 'length' : 'stop');
    expect(c.usage).toEqual(want.usage);
  });

  it('a streamed chat equals the whole one, chunk by chunk, with a usage chunk on request', async () => {
    const client = openai(s.base);
    const req = { model: 'tiny-chat', messages: [{ role: 'user' as const, content: 'Say something.' }], max_tokens: 12, temperature: 0 };
    const whole = await client.chat.completions.create(req);
    const mcpText = (await tools.call('generate', { model: 'tiny-chat', messages: req.messages, max_new_tokens: 12 })).text;
    expect(whole.choices[0]!.message.content).toBe(mcpText);
    const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: unknown;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        finish = c.finish_reason ?? finish;
      }
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it('a plain completion streams too, and stop strings end it with finish_reason stop', async () => {
    const client = openai(s.base);
    const whole = await client.completions.create({ model: 'distilgpt2', prompt: 'Hello', max_tokens: 16, temperature: 0 });
    const text = whole.choices[0]!.text;
    const stream = await client.completions.create({ model: 'distilgpt2', prompt: 'Hello', max_tokens: 16, temperature: 0, stream: true });
    let streamed = '';
    for await (const c of stream) streamed += c.choices[0]?.text ?? '';
    expect(streamed).toBe(text);
    const stop = text.trim().split(/\s+/)[1];
    if (stop) {
      const cut = await client.completions.create({ model: 'distilgpt2', prompt: 'Hello', max_tokens: 16, temperature: 0, stop });
      expect(cut.choices[0]!.finish_reason).toBe('stop');
      expect(text.startsWith(cut.choices[0]!.text)).toBe(true);
      expect(cut.choices[0]!.text.length).toBeLessThan(text.length);
    }
  });

  it('a stream the client aborts stops generating', async () => {
    const tokens = async () => {
      s.app.deps.metrics.flush();
      const m = await s.app.deps.metrics.registry.getSingleMetric('model_tokens_processed_total')!.get();
      return m.values.filter((v) => v.labels.model === 'slow-gen').reduce((a, v) => a + v.value, 0);
    };
    // The whole generation first: what an unaborted stream would count.
    const max = 300;
    const full = await openai(s.base).completions.create({ model: 'slow-gen', prompt: 'Abort me', max_tokens: max, temperature: 0 });
    const fullTokens = full.usage!.total_tokens;
    expect(full.usage!.completion_tokens).toBeGreaterThan(max / 2);
    const before = await tokens();
    const stream = await openai(s.base).completions.create({
      model: 'slow-gen',
      prompt: 'Abort me',
      max_tokens: max,
      temperature: 0,
      stream: true,
    });
    let pieces = 0;
    for await (const _c of stream) {
      if (++pieces === 3) {
        stream.controller.abort();
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = await tokens();
    await new Promise((r) => setTimeout(r, 500));
    expect(await tokens()).toBe(after); // nothing is still generating
    expect(after - before).toBeLessThan(fullTokens / 2);
  });

  it('transcribes an upload in every response format', async () => {
    const audio = readFileSync(SPEECH);
    // json and text ask for no timestamps; verbose_json, srt and vtt for segments (Whisper decodes differently with them).
    const plain = (await tools.call('transcribe', { audio: SPEECH, timestamps: false })) as { text: string };
    const want = (await tools.call('transcribe', { audio: SPEECH })) as {
      text: string;
      segments: Array<{ start: number; end: number; text: string }>;
    };
    const client = openai(s.base);
    const file = () => toFile(audio, 'speech.wav', { type: 'audio/wav' });
    const json = await client.audio.transcriptions.create({ file: await file(), model: 'whisper-tiny' });
    expect(json.text).toBe(plain.text.trim());
    const text = await client.audio.transcriptions.create({ file: await file(), model: 'whisper-tiny', response_format: 'text' });
    expect(String(text).trim()).toBe(plain.text.trim());
    const verbose = await client.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-tiny',
      response_format: 'verbose_json',
      timestamp_granularities: ['segment'],
    });
    expect(verbose.text).toBe(want.text.trim());
    expect(verbose.duration).toBeGreaterThan(1);
    expect(verbose.segments!.map((x) => x.text)).toEqual(want.segments.map((x) => x.text));
    const srt = String(await client.audio.transcriptions.create({ file: await file(), model: 'whisper-tiny', response_format: 'srt' }));
    expect(srt).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n/);
    const vtt = String(await client.audio.transcriptions.create({ file: await file(), model: 'whisper-tiny', response_format: 'vtt' }));
    expect(vtt).toMatch(/^WEBVTT\n\n\d\d:\d\d:\d\d\.\d{3} --> /);
  });
});

describe('OpenAI-compatible errors', () => {
  it('maps each catalogued failure to the status the SDK turns into its error class', async () => {
    const secret = 'a-test-secret-of-at-least-32-bytes!!';
    const { base } = await start({ apiKeys: ['good-key'], jwtSecret: secret, rateLimit: 0, maxBodyBytes: 4096 });
    const client = openai(base, 'good-key');
    const expectError = async (p: Promise<unknown>, cls: new (...a: never[]) => Error, status: number, code: string) => {
      const e = await p.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e, code).toBeInstanceOf(cls);
      expect((e as { status: number }).status).toBe(status);
      expect((e as { code: string }).code).toBe(code);
      return e as InstanceType<typeof OpenAI.APIError>;
    };
    await expectError(client.chat.completions.create({ model: 'tiny-chat', messages: [] }), OpenAI.BadRequestError, 400, 'invalid_input');
    await expectError(openai(base, 'wrong').models.list(), OpenAI.AuthenticationError, 401, 'unauthorized');
    const readOnly = await new SignJWT({ scope: 'models:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('reader')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    await expectError(
      openai(base, readOnly).embeddings.create({ model: 'all-minilm-l6-v2', input: 'x' }),
      OpenAI.PermissionDeniedError,
      403,
      'forbidden',
    );
    await expectError(client.embeddings.create({ model: 'no-such-model', input: 'x' }), OpenAI.NotFoundError, 404, 'unknown_model');
    const big = await expectError(
      client.embeddings.create({ model: 'all-minilm-l6-v2', input: 'x'.repeat(5000) }),
      OpenAI.APIError,
      413,
      'body_too_large',
    );
    expect(big.type).toBe('invalid_request_error');
    const timeout = await expectError(
      client.completions.create(
        { model: 'distilgpt2', prompt: 'slow', max_tokens: 2000, temperature: 0 },
        { headers: { 'x-request-timeout-ms': '1' } },
      ),
      OpenAI.InternalServerError,
      504,
      'timeout',
    );
    expect(timeout.headers?.get('retry-after')).toBeTruthy();
  });

  it('429 with Retry-After when rate limited, 503 while the model is unavailable', async () => {
    const { base } = await start({ rateLimit: 2, breakerResetMs: 60_000 });
    const client = openai(base);
    await client.models.list();
    await client.models.list();
    const e = await client.models.list().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect((e as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toMatch(/^\d+$/);

    const { base: b2 } = await start({ breakerResetMs: 60_000 });
    const c2 = openai(b2);
    let last: unknown;
    for (let i = 0; i < 8; i++) last = await c2.embeddings.create({ model: 'broken-embedder', input: 'x' }).catch((err: unknown) => err);
    expect(last).toBeInstanceOf(OpenAI.InternalServerError);
    expect((last as { status: number }).status).toBe(503);
    expect((last as { code: string }).code).toBe('model_unavailable');
  });
});
