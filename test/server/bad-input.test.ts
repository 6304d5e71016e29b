/**
 * Bad input gets an isError result with a stable code, and the same server then serves a valid
 * request correctly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startServer, type Harness } from '../helpers/server.js';

let h: Harness;
beforeAll(async () => {
  h = await startServer({ limits: { maxTexts: 8, maxTextChars: 200, maxNewTokens: 64, maxMessages: 4 } });
});
afterAll(async () => h.close());

async function expectStillServes(): Promise<void> {
  const r = await h.call('similarity', { query: 'hello world', documents: ['cat', 'hello world'] });
  expect(r.isError).toBeFalsy();
  expect((r.structuredContent as { results: Array<{ index: number }> }).results[0]!.index).toBe(1);
}

const cases: Array<[string, string, Record<string, unknown>, string, RegExp?]> = [
  ['empty texts array', 'embed', { texts: [] }, 'invalid_input', /texts/],
  ['an empty text', 'embed', { texts: ['ok', '   '] }, 'invalid_input', /texts\[1\] is empty/],
  ['wrong type for texts', 'embed', { texts: 'not a list' }, 'invalid_input', /texts/],
  ['wrong type for normalize', 'embed', { texts: ['a'], normalize: 'yes' }, 'invalid_input'],
  ['too many texts', 'embed', { texts: Array.from({ length: 9 }, (_, i) => `t${i}`) }, 'input_too_large', /limit is 8/],
  ['a text too long', 'embed', { texts: ['x'.repeat(201)] }, 'input_too_large', /limit is 200/],
  ['dimensions above the model size', 'embed', { texts: ['a'], dimensions: 4096 }, 'invalid_input', /384/],
  [
    'an unknown model',
    'embed',
    { texts: ['a'], model: 'no-such-model' },
    'unknown_model',
    /unknown model "no-such-model"; valid: all-minilm-l6-v2/,
  ],
  [
    'a model that does not serve the task',
    'embed',
    { texts: ['a'], model: 'distilbert-sst2' },
    'unsupported_task',
    /serves text-classification/,
  ],
  ['a wrong-task model for generate', 'generate', { prompt: 'a', model: 'all-minilm-l6-v2' }, 'unsupported_task'],
  ['loading an unknown model', 'load_model', { model: 'nope' }, 'unknown_model'],
  ['a non-string model', 'embed', { texts: ['a'], model: 42 }, 'invalid_input'],
  ['a missing model folder while offline', 'embed', { texts: ['a'], model: 'missing-embedder' }, 'model_not_found', /--models-dir/],
  ['a corrupt model.onnx', 'embed', { texts: ['a'], model: 'broken-embedder' }, 'model_load_failed'],
  ['similarity with neither query nor pairs', 'similarity', {}, 'invalid_input'],
  ['similarity with both modes', 'similarity', { query: 'a', documents: ['b'], pairs: [['a', 'b']] }, 'invalid_input'],
  ['classify with text and texts', 'classify', { text: 'a', texts: ['b'] }, 'invalid_input'],
  ['generate with no prompt', 'generate', { model: 'distilgpt2' }, 'invalid_input'],
  ['generate over max_new_tokens', 'generate', { model: 'distilgpt2', prompt: 'hi', max_new_tokens: 65 }, 'invalid_input'],
  [
    'chat messages for a model without a template',
    'generate',
    { model: 'distilgpt2', messages: [{ role: 'user', content: 'hi' }] },
    'invalid_input',
    /chat template/,
  ],
  [
    'too many chat messages',
    'generate',
    { model: 'tiny-chat', messages: Array.from({ length: 5 }, () => ({ role: 'user', content: 'hi' })) },
    'input_too_large',
  ],
  ['a bad role', 'generate', { model: 'tiny-chat', messages: [{ role: 'robot', content: 'hi' }] }, 'invalid_input'],
];

describe('bad input', () => {
  it.each(cases)('%s -> %s', async (_name, tool, args, code, msg) => {
    const r = await h.call(tool, args);
    const err = errorOf(r);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(false);
    if (msg) expect(err.message).toMatch(msg);
    await expectStillServes();
  });

  it('an unknown tool is a protocol error (-32602), not a tool result', async () => {
    const e = await h.call('transcribe_everything', {}).then(
      () => undefined,
      (err: unknown) => err as { code: number; message: string },
    );
    expect(e?.code).toBe(-32602);
    expect(e?.message).toMatch(/transcribe_everything/);
    await expectStillServes();
  });

  it('a failed load is not cached: the broken model fails again with the same code, the registry shows why', async () => {
    expect(errorOf(await h.call('embed', { texts: ['a'], model: 'broken-embedder' })).code).toBe('model_load_failed');
    const models = JSON.parse(((await h.client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text);
    const broken = models.skills.find((s: { name: string }) => s.name === 'broken-embedder');
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(/model_load_failed/);
    await expectStillServes();
  });

  it('concurrent bad and good requests: the good ones all succeed', async () => {
    const calls = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? h.call('embed', { texts: [] })
        : i % 3 === 1
          ? h.call('embed', { texts: ['a'], model: 'broken-embedder' })
          : h.call('embed', { texts: [`text ${i}`] }),
    );
    const rs = await Promise.all(calls);
    rs.forEach((r, i) => expect(Boolean(r.isError)).toBe(i % 3 !== 2));
  });
});

describe('errors after tools/list', () => {
  it('error results pass the client-side output-schema check (no structuredContent on errors)', async () => {
    await h.client.listTools();
    const r = await h.client.callTool({ name: 'embed', arguments: { texts: [] } });
    expect(errorOf(r as never).code).toBe('invalid_input');
  });
});
