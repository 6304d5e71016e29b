/**
 * The thread rule as the app applies it (hardware/threads.ts -> loader -> `hf://hardware`):
 * defaults, `--replicas`, and replicas turned off where models do not run in worker threads.
 */
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';

async function plan(overrides: Parameters<typeof startServer>[0]) {
  const h = await startServer(overrides);
  try {
    const hw = JSON.parse(((await h.client.readResource({ uri: 'hf://hardware' })).contents[0] as { text: string }).text);
    return { threads: hw.threads, cores: hw.cpu.computeCores as number };
  } finally {
    await h.close();
  }
}

describe('thread plan in hf://hardware', () => {
  it('defaults: one intra-op thread per compute core, encoders alike, one replica', async () => {
    const { threads, cores } = await plan({ threads: 0 });
    expect(threads).toEqual({ intraOpThreads: cores, encoderThreads: cores, encoderReplicas: 1 });
  });

  it('--replicas 2: encoders share the cores between two sessions; other models keep them all', async () => {
    const { threads, cores } = await plan({ threads: 0, replicas: 2 });
    expect(threads).toEqual({ intraOpThreads: cores, encoderThreads: Math.max(1, Math.floor(cores / 2)), encoderReplicas: 2 });
  });

  it('--inference-thread main: no replicas (they could not run side by side)', async () => {
    const { threads, cores } = await plan({ threads: 0, replicas: 2, inferenceThread: 'main' });
    expect(threads).toEqual({ intraOpThreads: cores, encoderThreads: cores, encoderReplicas: 1 });
  });
});
