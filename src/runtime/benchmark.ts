/**
 * @module runtime/benchmark
 * Measures a model's latency and throughput on each usable device (the seed design's
 * `benchmark_model()`): a temporary session per device, a canned input for the task, warm-up
 * runs, then timed runs. Devices that fail to load are reported with their error, not skipped.
 */
import type { Backend, TaskInput } from '../backends/types.js';
import type { Config } from '../config/config.js';
import { ServerError, toServerError, echo } from '../errors.js';
import type { Registry } from '../skills/registry.js';
import type { Device, Task } from '../skills/schema.js';
import { modelFileBytes, resolveSource, type ModelLoader } from './loader.js';
import { DET_DEFAULTS, OCR_UNCLIP_RATIO, VAD_DEFAULTS } from '../backends/onnx/tasks.js';

/** One device's figures. */
export interface BenchmarkResult {
  device: Device;
  dtype: string;
  ok: boolean;
  error?: string;
  loadMs?: number;
  iterations?: number;
  batchSize?: number;
  latencyMs?: { p50: number; p95: number; mean: number };
  /** Items per second (texts) or generated tokens per second. */
  throughput?: number;
  unit?: 'items/s' | 'tokens/s';
}

/** Options of a benchmark. */
export interface BenchmarkOptions {
  /** Timed runs per device (default 10). */
  iterations?: number;
  /** Texts per run for embedding/classification (default 1). */
  batchSize?: number;
  /** Devices to try (default: every usable device this backend supports). */
  devices?: Device[];
}

const SENTENCE = 'The quick brown fox jumps over the lazy dog near the river bank.';

function input(task: Task, batch: number): TaskInput {
  const texts = Array.from({ length: batch }, (_, i) => `${SENTENCE} (${i})`);
  if (task === 'feature-extraction') return { task, texts, pooling: 'mean', normalize: true };
  if (task === 'text-classification') return { task, texts, topK: 1 };
  if (task === 'text-generation' || task === 'text2text-generation') {
    return { task, prompt: SENTENCE, params: { maxNewTokens: 16, doSample: false, temperature: 1, topK: 0, topP: 1, stop: [] } };
  }
  // Vision and audio: a synthetic 320x240 image with dark bars on light, and 5 s of a chirp.
  const W = 320;
  const H = 240;
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) data.fill((i / W) % 40 < 12 && i % W > 20 && i % W < 300 ? 30 : 235, i * 3, i * 3 + 3);
  const image = { data, width: W, height: H, channels: 3 as const };
  const samples = Float32Array.from({ length: 16000 * 5 }, (_, i) => 0.3 * Math.sin(2 * Math.PI * (200 + i / 200) * (i / 16000)));
  const audio = { samples, sampleRate: 16000 as const };
  switch (task) {
    case 'image-classification':
      return { task, image, topK: 5 };
    case 'zero-shot-image-classification':
      return { task, image, labels: ['a document', 'a photo', 'a diagram'], hypothesisTemplate: 'This is {}.' };
    case 'object-detection':
      return { task, image, threshold: 0.5 };
    case 'text-detection':
      return { task, image, ...DET_DEFAULTS };
    case 'ocr':
      return { task, image, boxThreshold: DET_DEFAULTS.boxThreshold, unclipRatio: OCR_UNCLIP_RATIO, orientation: true, minConfidence: 0.5 };
    case 'voice-activity-detection':
      return { task, audio, vad: VAD_DEFAULTS };
    case 'image-to-text':
      return { task, image, maxNewTokens: 16 };
    case 'automatic-speech-recognition':
      return { task, audio, mode: 'transcribe', timestamps: true, chunkLengthS: 30, strideLengthS: 5, maxNewTokens: 16 };
  }
  throw new ServerError('unsupported_task', `benchmark_model does not support ${task}`);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** Runs benchmarks with a backend, outside the loader's cache but within its memory budget. */
export class Benchmarker {
  constructor(private readonly d: { config: Config; registry: Registry; backend: Backend; loader: ModelLoader }) {}

  async run(name: string, o: BenchmarkOptions = {}): Promise<BenchmarkResult[]> {
    const reg = this.d.registry.get(name);
    if (!reg) throw new ServerError('unknown_model', `unknown model ${echo(name)}`);
    const skill = reg.skill;
    const task = skill.tasks[0]!;
    const iterations = o.iterations ?? 10;
    const batch = o.batchSize ?? 1;
    const usable = this.d.loader.usableDevices();
    const devices = o.devices ?? usable.filter((d) => d !== 'webgpu');
    const source = resolveSource(skill.model.id, skill.model.revision, this.d.config);
    const results: BenchmarkResult[] = [];
    for (const device of devices) {
      const dtype = skill.model.dtype[device];
      const res: BenchmarkResult = { device, dtype: dtype ?? 'fp32', ok: false };
      results.push(res);
      if (!usable.includes(device)) {
        res.error = `device not usable here; usable: ${usable.join(', ')}`;
        continue;
      }
      const need = modelFileBytes(source, dtype, skill.model.files);
      if (this.d.loader.used + need > this.d.loader.budget) {
        res.error = `insufficient_memory: needs ${Math.round(need / 2 ** 20)} MiB beyond the loaded models; unload some or raise --memory-budget`;
        continue;
      }
      try {
        const t0 = performance.now();
        const h = await this.d.backend.load({
          source,
          revision: skill.model.revision,
          task,
          device,
          dtype,
          threads: this.d.loader.threads,
          files: skill.model.files,
        });
        res.loadMs = Math.round(performance.now() - t0);
        try {
          const inp = input(task, batch);
          for (let i = 0; i < 2; i++) await h.run(inp);
          const times: number[] = [];
          let items = 0;
          for (let i = 0; i < iterations; i++) {
            const s = performance.now();
            const out = await h.run(inp);
            times.push(performance.now() - s);
            items += 'tokenIds' in out ? out.tokenIds.length : batch;
          }
          const sorted = [...times].sort((a, b) => a - b);
          const total = times.reduce((a, b) => a + b, 0);
          Object.assign(res, {
            ok: true,
            iterations,
            batchSize: batch,
            latencyMs: { p50: round(pct(sorted, 0.5)), p95: round(pct(sorted, 0.95)), mean: round(total / iterations) },
            throughput: round((items / total) * 1000),
            unit: task.includes('generation') ? 'tokens/s' : 'items/s',
          });
        } finally {
          await h.dispose();
        }
      } catch (e) {
        const err = toServerError(e);
        res.error = `${err.code}: ${err.message}`;
      }
    }
    return results;
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
