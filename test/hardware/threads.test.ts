import { describe, expect, it } from 'vitest';
import { computeCores, quotaCpus, threadPlan, threadsPerCore } from '../../src/hardware/threads.js';

describe('thread plan', () => {
  it('one intra-op thread per compute core and one batch at a time, unless flags say otherwise', () => {
    const one = { encoderReplicas: 1 };
    expect(threadPlan(8, { threads: 0, batchConcurrency: 0, replicas: 1 })).toEqual({
      intraOpThreads: 8,
      batchConcurrency: 1,
      ...one,
      encoderThreads: 8,
      encoderBatchConcurrency: 1,
    });
    expect(threadPlan(8, { threads: 2, batchConcurrency: 3, replicas: 1 })).toEqual({
      intraOpThreads: 2,
      batchConcurrency: 3,
      ...one,
      encoderThreads: 2,
      encoderBatchConcurrency: 3,
    });
    expect(threadPlan(0, { threads: 0, batchConcurrency: 0, replicas: 1 }).intraOpThreads).toBe(1);
  });

  it('text-encoder replicas share the cores and run one batch each; other models keep every core', () => {
    expect(threadPlan(8, { threads: 0, batchConcurrency: 0, replicas: 2 })).toEqual({
      intraOpThreads: 8,
      batchConcurrency: 1,
      encoderReplicas: 2,
      encoderThreads: 4,
      encoderBatchConcurrency: 2,
    });
    // More replicas than cores: one thread each, never zero.
    expect(threadPlan(2, { threads: 0, batchConcurrency: 0, replicas: 3 })).toMatchObject({
      encoderThreads: 1,
      encoderBatchConcurrency: 3,
    });
    // Flags still win.
    expect(threadPlan(8, { threads: 3, batchConcurrency: 1, replicas: 2 })).toMatchObject({
      encoderThreads: 3,
      encoderBatchConcurrency: 1,
    });
  });

  it('compute cores: the affinity mask, one per physical core with SMT, capped by a container quota', () => {
    expect(computeCores({ available: 2, threadsPerCore: 1, quotaCpus: undefined })).toBe(2);
    expect(computeCores({ available: 16, threadsPerCore: 2, quotaCpus: undefined })).toBe(8);
    expect(computeCores({ available: 64, threadsPerCore: 1, quotaCpus: 2 })).toBe(2);
    expect(computeCores({ available: 64, threadsPerCore: 2, quotaCpus: 1.5 })).toBe(1);
    expect(computeCores({ available: 1, threadsPerCore: 2, quotaCpus: 0.5 })).toBe(1);
  });

  it('reads SMT from /proc/cpuinfo and quotas from cgroup v2 and v1 files', () => {
    expect(threadsPerCore('processor\t: 0\nsiblings\t: 16\ncpu cores\t: 8\n')).toBe(2);
    expect(threadsPerCore('processor\t: 0\nsiblings\t: 2\ncpu cores\t: 2\n')).toBe(1);
    expect(threadsPerCore(undefined)).toBe(1);
    expect(threadsPerCore('Processor : AArch64\n')).toBe(1);
    expect(quotaCpus('200000 100000\n')).toBe(2);
    expect(quotaCpus('max 100000\n')).toBeUndefined();
    expect(quotaCpus(undefined, '150000', '100000')).toBe(1.5);
    expect(quotaCpus(undefined, '-1', '100000')).toBeUndefined();
  });
});
