/**
 * The shared model-handle wrapper: dispatch by task, and the errors every backend's handles give
 * (disposed, wrong task, a handler's own failure, an abort, a catalogued error passing through).
 */
import { describe, expect, it } from 'vitest';
import { makeHandle } from '../../src/backends/handle.js';
import { ServerError } from '../../src/errors.js';

const embedInput = { task: 'feature-extraction' as const, texts: ['x'], pooling: 'mean' as const, normalize: true };

describe('makeHandle', () => {
  it('dispatches by task and maps every failure to a catalogued error', async () => {
    let mode: 'ok' | 'boom' | 'abort' | 'catalogued' = 'ok';
    let released = 0;
    const h = makeHandle({
      source: 'm',
      task: 'feature-extraction',
      device: 'cpu',
      dtype: 'fp32',
      handlers: {
        'feature-extraction': async (input) => {
          if (mode === 'boom') throw new Error('kaput');
          if (mode === 'abort') throw Object.assign(new Error('aborted'), { name: 'AbortError' });
          if (mode === 'catalogued') throw new ServerError('input_too_large', 'too long');
          return { vectors: input.texts.map(() => new Float32Array([1])), tokens: [1] };
        },
      },
      release: async () => void released++,
    });
    expect((await h.run(embedInput)).vectors).toHaveLength(1);
    await expect(h.run({ task: 'text-classification', texts: ['x'], topK: 1 })).rejects.toMatchObject({ code: 'unsupported_task' });
    mode = 'boom';
    await expect(h.run(embedInput)).rejects.toMatchObject({ code: 'inference_failed', message: 'inference failed: kaput' });
    mode = 'abort';
    await expect(h.run(embedInput)).rejects.toMatchObject({ code: 'cancelled' });
    mode = 'catalogued';
    await expect(h.run(embedInput)).rejects.toMatchObject({ code: 'input_too_large' });
    await h.dispose();
    await h.dispose();
    expect(released).toBe(1);
    await expect(h.run(embedInput)).rejects.toMatchObject({ code: 'model_load_failed' });
  });
});
