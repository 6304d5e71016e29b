/**
 * Text-encoder replicas in the worker backend (hardware/threads.ts, `--replicas`): each replica
 * is its own worker thread and session, and a call goes to the least busy one, so a short call
 * overtakes a long batch that one replica is computing. With one replica (the control) it waits
 * behind it, since a worker computes one call at a time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadRequest } from '../../src/backends/types.js';
import { WorkerBackend } from '../../src/backends/worker.js';
import { fixture } from '../helpers/fixtures.js';

const backend = () => new WorkerBackend({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'hfms-cache-')), useFsCache: false });
const request = (replicas: number): LoadRequest => ({
  revision: 'main',
  device: 'cpu',
  threads: 1,
  replicas,
  source: fixture('minilm'),
  task: 'feature-extraction',
});
const embed = (texts: string[]) => ({ task: 'feature-extraction' as const, texts, pooling: 'mean' as const, normalize: true });

describe('worker backend replicas', () => {
  const results = new Map<number, Float32Array>();
  for (const [replicas, expected] of [
    [2, ['short', 'long']],
    [1, ['long', 'short']],
  ] as const) {
    it(`${replicas} replica(s): a short call ${replicas > 1 ? 'overtakes' : 'waits behind'} a long batch`, async () => {
      const h = await backend().load(request(replicas));
      const order: string[] = [];
      const long = Array.from({ length: 16 }, (_, i) => `${'many words of a long text '.repeat(30)}${i}`);
      const done = [
        h.run(embed(long)).then(() => order.push('long')),
        h.run(embed(['a short one'])).then((out) => {
          order.push('short');
          results.set(replicas, out.vectors[0]!);
        }),
      ];
      await Promise.all(done);
      expect(order).toEqual(expected);
      await h.dispose();
      await expect(h.run(embed(['after dispose']))).rejects.toBeTruthy();
    }, 120_000);
  }

  it('replicas compute the same vectors as one session', () => {
    expect(Array.from(results.get(2)!)).toEqual(Array.from(results.get(1)!));
  });

  it('a replica that cannot load fails the load with its catalogued error', async () => {
    await expect(backend().load({ ...request(2), source: join(tmpdir(), 'no-such-model-folder') })).rejects.toMatchObject({
      code: 'model_not_found',
    });
  });
});
