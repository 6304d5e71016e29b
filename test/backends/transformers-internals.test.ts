/**
 * transformers.js internals (backends/transformers-internals.ts): the version check, the single
 * session the fast paths use and its fallback, and left padding that leaves the shared tokenizer
 * as it was. The fast path and the public forward give the same hidden states on a generated
 * encoder.
 */
import { describe, expect, it } from 'vitest';
import { env, pipeline } from '@huggingface/transformers';
import {
  CHECKED_VERSION,
  internalsUsable,
  ortTensor,
  singleSession,
  withLeftPadding,
  type OrtSession,
} from '../../src/backends/transformers-internals.js';
import { fixture } from '../helpers/fixtures.js';

describe('transformers.js internals', () => {
  it('are used only with the checked release', () => {
    expect(env.version.startsWith(`${CHECKED_VERSION}.`)).toBe(true);
    expect(internalsUsable()).toBe(true);
    expect(internalsUsable('5.0.0')).toBe(false);
    const one = { sessions: { model: {} as OrtSession } };
    expect(singleSession(one)).toBe(one.sessions.model);
    expect(singleSession(one, '4.4.0')).toBeUndefined();
    expect(singleSession({ sessions: { encoder_model: {} as OrtSession, decoder_model_merged: {} as OrtSession } })).toBeUndefined();
  });

  it('left padding is restored after the call, even when it throws', () => {
    const tok = { padding_side: 'right' };
    expect(withLeftPadding(tok, () => tok.padding_side)).toBe('left');
    expect(tok.padding_side).toBe('right');
    expect(() =>
      withLeftPadding(tok, () => {
        throw new Error('x');
      }),
    ).toThrow('x');
    expect(tok.padding_side).toBe('right');
  });

  it('the direct session run equals the public forward on a generated encoder', async () => {
    env.allowRemoteModels = false;
    const p = (await pipeline('feature-extraction', fixture('bert'), { dtype: 'fp32' })) as unknown as {
      tokenizer: (t: string[], o: object) => Record<string, never>;
      model: ((enc: object) => Promise<Record<string, { data: Float32Array }>>) & { sessions?: Record<string, OrtSession> };
      dispose(): Promise<void>;
    };
    const enc = p.tokenizer(['a short sentence', 'and a somewhat longer second one'], { padding: true, truncation: true });
    const session = singleSession(p.model)!;
    const feeds: Record<string, unknown> = {};
    for (const n of session.inputNames) feeds[n] = ortTensor(enc[n]!);
    const fast = (await session.run(feeds)).last_hidden_state!.data as Float32Array;
    const slow = (await p.model(enc)).last_hidden_state!.data;
    expect(Array.from(fast)).toEqual(Array.from(slow));
    await p.dispose();
  });
});
