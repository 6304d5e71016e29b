/**
 * Batcher unit tests: batching, parameter separation, split and reassembly, token bounds,
 * priorities, overload, cancellation, max wait (fake timers) and failure isolation.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatcherOptions } from '../../src/runtime/batcher.js';
import { ServerError } from '../../src/errors.js';

type Run = { key: string; units: string[]; done: (r?: string[]) => void; fail: (e: unknown) => void };

function harness(over: Partial<BatcherOptions<string, string>> = {}) {
  const runs: Run[] = [];
  const b = new Batcher<string, string>({
    maxBatchSize: 4,
    maxBatchTokens: 1000,
    maxWaitMs: 5,
    maxQueue: 100,
    tokens: (u) => u.length,
    run: (key, units) =>
      new Promise<string[]>((resolve, reject) => {
        runs.push({ key, units, done: (r) => resolve(r ?? units.map((u) => `${key}:${u}`)), fail: reject });
      }),
    ...over,
  });
  return { b, runs };
}

const flush = () => new Promise((r) => setImmediate(r));

afterEach(() => vi.useRealTimers());

describe('Batcher', () => {
  it('starts at once when idle, and batches what arrives meanwhile', async () => {
    const { b, runs } = harness();
    const first = b.submit(['a'], 'k');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.units).toEqual(['a']);
    const later = [b.submit(['b'], 'k'), b.submit(['c'], 'k'), b.submit(['d'], 'k')];
    expect(runs).toHaveLength(1); // one batch at a time
    runs[0]!.done();
    expect(await first).toEqual(['k:a']);
    await flush();
    expect(runs).toHaveLength(2);
    expect(runs[1]!.units).toEqual(['b', 'c', 'd']);
    runs[1]!.done();
    expect(await Promise.all(later)).toEqual([['k:b'], ['k:c'], ['k:d']]);
  });

  it('never merges requests with different parameters', async () => {
    const { b, runs } = harness();
    void b.submit(['x'], 'k1');
    const p1 = b.submit(['a'], 'mean|true');
    const p2 = b.submit(['b'], 'cls|true');
    const p3 = b.submit(['c'], 'mean|true');
    runs[0]!.done();
    await flush();
    expect(runs[1]!.key).toBe('mean|true');
    expect(runs[1]!.units).toEqual(['a', 'c']);
    runs[1]!.done();
    await flush();
    expect(runs[2]!.key).toBe('cls|true');
    expect(runs[2]!.units).toEqual(['b']);
    runs[2]!.done();
    expect(await Promise.all([p1, p2, p3])).toEqual([['mean|true:a'], ['cls|true:b'], ['mean|true:c']]);
  });

  it('splits a client batch larger than the maximum and reassembles it in order', async () => {
    const { b, runs } = harness({ maxBatchSize: 4 });
    const units = Array.from({ length: 10 }, (_, i) => `u${i}`);
    const p = b.submit(units, 'k');
    for (let i = 0; i < 3; i++) {
      await flush();
      runs[i]!.done(runs[i]!.units.map((u) => u.toUpperCase()));
    }
    expect(runs.map((r) => r.units.length)).toEqual([4, 4, 2]);
    expect(await p).toEqual(units.map((u) => u.toUpperCase()));
  });

  it('bounds a batch by tokens (a single large unit still runs)', async () => {
    const { b, runs } = harness({ maxBatchSize: 10, maxBatchTokens: 6 });
    void b.submit(['x'], 'k');
    void b.submit(['aaa', 'bbb', 'ccc', 'dddddddddd'], 'k');
    runs[0]!.done();
    await flush();
    expect(runs[1]!.units).toEqual(['aaa', 'bbb']);
    runs[1]!.done();
    await flush();
    expect(runs[2]!.units).toEqual(['ccc']);
    runs[2]!.done();
    await flush();
    expect(runs[3]!.units).toEqual(['dddddddddd']);
  });

  it('serves higher priorities first', async () => {
    const { b, runs } = harness({ maxBatchSize: 2 });
    void b.submit(['busy'], 'k');
    void b.submit(['low1'], 'k', { priority: 'low' });
    void b.submit(['norm1'], 'k');
    void b.submit(['high1'], 'k', { priority: 'high' });
    void b.submit(['high2'], 'k', { priority: 'high' });
    runs[0]!.done();
    await flush();
    expect(runs[1]!.units).toEqual(['high1', 'high2']);
    runs[1]!.done();
    await flush();
    expect(runs[2]!.units).toEqual(['norm1', 'low1']);
  });

  it('refuses past the queue bound with a retryable overloaded error and a retry hint', async () => {
    const { b } = harness({ maxQueue: 3 });
    void b.submit(['running'], 'k');
    void b.submit(['a', 'b'], 'k');
    const err = await b.submit(['c', 'd'], 'k').catch((e: ServerError) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('overloaded');
    expect((err as ServerError).retryable).toBe(true);
    expect((err as ServerError).retryAfterMs).toBeGreaterThan(0);
    expect(b.depth).toBe(2);
  });

  it('removes a cancelled request from the queue before it runs', async () => {
    const { b, runs } = harness();
    void b.submit(['busy'], 'k');
    const ac = new AbortController();
    const cancelled = b.submit(['gone1', 'gone2'], 'k', { signal: ac.signal });
    const kept = b.submit(['kept'], 'k');
    ac.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
    expect(b.depth).toBe(1);
    runs[0]!.done();
    await flush();
    expect(runs[1]!.units).toEqual(['kept']);
    runs[1]!.done();
    expect(await kept).toEqual(['k:kept']);
    expect(runs.flatMap((r) => r.units)).not.toContain('gone1');
  });

  it('with a batch running, a partial second batch waits max_wait_ms to fill (fake timers)', async () => {
    vi.useFakeTimers();
    const { b, runs } = harness({ maxConcurrentBatches: 2, maxWaitMs: 10, maxBatchSize: 3, now: () => Date.now() });
    void b.submit(['first'], 'k');
    expect(runs).toHaveLength(1);
    void b.submit(['a'], 'k');
    expect(runs).toHaveLength(1); // waits to fill
    await vi.advanceTimersByTimeAsync(5);
    void b.submit(['b'], 'k');
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.units).toEqual(['a', 'b']);
    void b.submit(['c', 'd', 'e'], 'k'); // a full batch does not wait
    expect(runs).toHaveLength(2); // two already running
    runs[0]!.done();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs[2]!.units).toEqual(['c', 'd', 'e']);
  });

  it('a failing input fails only its own request', async () => {
    const b = new Batcher<string, string>({
      maxBatchSize: 8,
      maxBatchTokens: 1000,
      maxWaitMs: 0,
      maxQueue: 100,
      tokens: () => 1,
      run: async (_k, units) => {
        await new Promise((r) => setTimeout(r, 1));
        if (units.includes('poison')) throw new ServerError('inference_failed', 'bad input');
        return units.map((u) => u.toUpperCase());
      },
    });
    void b.submit(['warm'], 'k');
    const bad = b.submit(['x', 'poison'], 'k');
    const good = b.submit(['fine'], 'k');
    await expect(bad).rejects.toMatchObject({ code: 'inference_failed' });
    expect(await good).toEqual(['FINE']);
  });

  it('serves clients fairly: a flood queued first does not hold back a later client for all of its units', async () => {
    const { b, runs } = harness();
    void b.submit(['go'], 'k', { client: 'x' }); // occupies the running slot
    const flood = b.submit(
      Array.from({ length: 40 }, (_, i) => `f${i}`),
      'k',
      { client: 'flooder' },
    );
    const polite = b.submit(['p1', 'p2'], 'k', { client: 'polite' });
    runs[0]!.done();
    await flush();
    // The next batch mixes the polite client's units in right after the flooder's first ones.
    expect(runs[1]!.units).toEqual(['f0', 'p1', 'f1', 'p2']);
    runs[1]!.done();
    expect(await polite).toEqual(['k:p1', 'k:p2']);
    for (let i = 2; i < runs.length || i < 12; i++) {
      await flush();
      runs[i]?.done();
    }
    expect((await flood).length).toBe(40);
  });

  it('a client that was idle starts from the current point, not from its own past', async () => {
    const { b, runs } = harness({ maxBatchSize: 1 });
    void b.submit(['x0'], 'k', { client: 'a' });
    const early = b.submit(['a1', 'a2', 'a3'], 'k', { client: 'a' });
    runs[0]!.done();
    await flush();
    runs[1]!.done();
    await flush();
    // b arrives now: it goes next, ahead of a's remaining units.
    const late = b.submit(['b1'], 'k', { client: 'b' });
    runs[2]!.done();
    await flush();
    expect(runs[3]!.units).toEqual(['b1']);
    runs[3]!.done();
    await flush();
    runs[4]!.done();
    expect(await late).toEqual(['k:b1']);
    expect(await early).toEqual(['k:a1', 'k:a2', 'k:a3']);
  });

  it('one client may hold at most its share of the queue; others still get in', async () => {
    const { b, runs } = harness({ maxQueue: 10, maxQueuePerClient: 5 });
    void b.submit(['go'], 'k', { client: 'x' });
    const first = b.submit(['1', '2', '3', '4', '5'], 'k', { client: 'greedy' });
    await expect(b.submit(['6'], 'k', { client: 'greedy' })).rejects.toMatchObject({ code: 'overloaded' });
    const other = b.submit(['o'], 'k', { client: 'other' });
    for (let i = 0; i < 4; i++) {
      runs[i]?.done();
      await flush();
    }
    expect(await other).toEqual(['k:o']);
    expect(await first).toHaveLength(5);
  });
});
