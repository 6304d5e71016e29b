/**
 * Property-based fuzzing (fast-check) of every tool's arguments through a real MCP client on
 * generated models: thousands of malformed, boundary and random inputs. Every reply is a
 * well-formed result or a catalogued error, the server never crashes, and a valid call is still
 * answered correctly afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_CATALOG } from '../../src/errors.js';
import { startServer, type Harness } from '../helpers/server.js';
import { signal, wav } from '../helpers/media.js';

let h: Harness;
beforeAll(async () => {
  h = await startServer({ limits: { maxTexts: 16, maxTextChars: 512, maxNewTokens: 6, maxMessages: 8 } });
});
afterAll(async () => h.close());

const MODELS = [
  'all-minilm-l6-v2',
  'distilbert-sst2',
  'distilgpt2',
  'tiny-chat',
  'broken-embedder',
  'missing-embedder',
  'whisper-tiny',
  'no-such-model',
  '',
];
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', ' ', '\u0000', '🙂'.repeat(10), 'x'.repeat(600), 'hello world'));
const junk = fc.oneof(
  fc.anything(),
  fc.constant(null),
  fc.constant(undefined),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.anything(), { maxLength: 3 }),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: a }, { weight: 1, arbitrary: junk });
const small = fc.integer({ min: -3, max: 8 });

const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WAV_SHORT = wav(signal(0.3)).toString('base64');
const mediaRef = fc.oneof(
  text,
  fc.constantFrom(
    'examples/ocr-page.png',
    'examples/speech.wav',
    '/etc/passwd',
    '../../etc/passwd',
    'http://127.0.0.1/x.png',
    'https://example.com/a.png',
    `data:image/png;base64,${PNG_1PX}`,
    'data:,',
    'file:///etc/passwd',
    'test/fixtures/media/tone.mp3',
  ),
);
const mediaB64 = fc.oneof(
  fc.constantFrom(PNG_1PX, WAV_SHORT, '', '====', 'data:x'),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
);
const unit = fc.double({ min: -0.5, max: 1.5, noNaN: true });

const ARGS: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  embed: fc.record(
    {
      texts: maybe(fc.array(text, { maxLength: 20 })),
      model: maybe(fc.constantFrom(...MODELS)),
      normalize: maybe(fc.boolean()),
      pooling: maybe(fc.constantFrom('mean', 'cls', 'max')),
      dimensions: maybe(fc.integer({ min: -2, max: 500 })),
      encoding: maybe(fc.constantFrom('float', 'base64', 'hex')),
    },
    { requiredKeys: [] },
  ),
  similarity: fc.record(
    {
      query: maybe(text),
      documents: maybe(fc.array(text, { maxLength: 20 })),
      pairs: maybe(fc.array(fc.tuple(text, text), { maxLength: 5 })),
      top_k: maybe(small),
      return_documents: maybe(fc.boolean()),
      model: maybe(fc.constantFrom(...MODELS)),
    },
    { requiredKeys: [] },
  ),
  classify: fc.record(
    { text: maybe(text), texts: maybe(fc.array(text, { maxLength: 20 })), top_k: maybe(small), model: maybe(fc.constantFrom(...MODELS)) },
    { requiredKeys: [] },
  ),
  generate: fc.record(
    {
      prompt: maybe(text),
      messages: maybe(
        fc.array(fc.record({ role: maybe(fc.constantFrom('system', 'user', 'assistant', 'robot')), content: maybe(text) }), {
          maxLength: 10,
        }),
      ),
      model: maybe(fc.constantFrom(...MODELS)),
      max_new_tokens: maybe(small),
      do_sample: maybe(fc.boolean()),
      temperature: maybe(fc.double({ min: -1, max: 6, noNaN: true })),
      top_k: maybe(small),
      top_p: maybe(fc.double({ min: -0.5, max: 1.5, noNaN: true })),
      seed: maybe(fc.integer({ min: -5, max: 2 ** 31 })),
      stop: maybe(fc.array(text, { maxLength: 3 })),
      max_time: maybe(fc.double({ min: -1, max: 0.05, noNaN: true })),
      return_token_ids: maybe(fc.boolean()),
    },
    { requiredKeys: [] },
  ),
  ocr: fc.record(
    {
      image: maybe(mediaRef),
      image_base64: maybe(mediaB64),
      orientation: maybe(fc.boolean()),
      box_threshold: maybe(unit),
      min_confidence: maybe(unit),
      model: maybe(fc.constantFrom(...MODELS, 'paddleocr-v4')),
    },
    { requiredKeys: [] },
  ),
  detect: fc.record(
    {
      image: maybe(mediaRef),
      image_base64: maybe(mediaB64),
      mode: maybe(fc.constantFrom('objects', 'text', 'faces')),
      threshold: maybe(unit),
      unclip_ratio: maybe(fc.double({ min: -1, max: 5, noNaN: true })),
      model: maybe(fc.constantFrom(...MODELS, 'detr-resnet-50', 'paddleocr-v4')),
    },
    { requiredKeys: [] },
  ),
  detect_speech: fc.record(
    {
      audio: maybe(mediaRef),
      audio_base64: maybe(mediaB64),
      threshold: maybe(unit),
      min_silence_ms: maybe(small),
      pad_ms: maybe(small),
      model: maybe(fc.constantFrom(...MODELS, 'silero-vad')),
    },
    { requiredKeys: [] },
  ),
  transcribe: fc.record(
    {
      audio: maybe(mediaRef),
      audio_base64: maybe(mediaB64),
      language: maybe(fc.constantFrom('en', 'xx', 'french', '')),
      task: maybe(fc.constantFrom('transcribe', 'translate', 'sing')),
      vad: maybe(fc.boolean()),
      max_new_tokens: maybe(fc.integer({ min: -1, max: 3 })),
      chunk_length_s: maybe(fc.integer({ min: -1, max: 40 })),
      model: maybe(fc.constantFrom(...MODELS)),
    },
    { requiredKeys: [] },
  ),
  load_model: fc.record({ model: maybe(fc.constantFrom(...MODELS)), pin: maybe(fc.boolean()) }, { requiredKeys: [] }),
  unload_model: fc.record({ model: maybe(fc.constantFrom(...MODELS)) }, { requiredKeys: [] }),
  benchmark_model: fc.record(
    {
      model: maybe(fc.constantFrom(...MODELS)),
      iterations: fc.oneof(fc.integer({ min: -2, max: 2 }), junk),
      batch_size: fc.oneof(fc.integer({ min: -2, max: 2 }), junk),
      devices: maybe(fc.array(fc.constantFrom('cpu', 'cuda', 'tpu'), { maxLength: 2 })),
    },
    { requiredKeys: [] },
  ),
};

const MEDIA_TOOLS = ['ocr', 'detect', 'detect_speech', 'transcribe'];
const CODES = new Set(Object.keys(ERROR_CATALOG));

async function callChecked(tool: string, args: unknown): Promise<void> {
  let r;
  try {
    r = await h.client.callTool({ name: tool, arguments: args as Record<string, unknown> });
  } catch (e) {
    expect(e, `${tool} ${JSON.stringify(args)?.slice(0, 200)}`).toBeInstanceOf(McpError); // a JSON-RPC error is well-formed too
    return;
  }
  expect(Array.isArray(r.content)).toBe(true);
  if (r.isError) {
    const body = JSON.parse((r.content as Array<{ text: string }>)[0]!.text).error;
    expect(CODES.has(body.code), `code ${body.code}`).toBe(true);
    expect(typeof body.message).toBe('string');
    expect(body.retryable).toBe(ERROR_CATALOG[body.code as keyof typeof ERROR_CATALOG].retryable);
  } else {
    expect(typeof r.structuredContent).toBe('object');
  }
}

describe('fuzzing every tool through a real MCP client', () => {
  for (const [tool, arb] of Object.entries(ARGS)) {
    it(`${tool}: every reply is a well-formed result or catalogued error`, async () => {
      await fc.assert(
        fc.asyncProperty(arb, (args) => callChecked(tool, args)),
        { numRuns: tool.includes('model') ? 150 : MEDIA_TOOLS.includes(tool) ? 80 : 500 },
      );
    });
  }

  it('raw junk as the whole arguments object, and unknown tools', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(ARGS), 'nope', ''), junk, (tool, args) => callChecked(tool, args)),
      { numRuns: 300 },
    );
  });

  it('afterwards the server still answers a valid call correctly', async () => {
    const r = await h.call('similarity', { query: 'hello world', documents: ['cat', 'hello world'] });
    expect((r.structuredContent as { results: Array<{ index: number }> }).results[0]!.index).toBe(1);
  });
});
