/**
 * @module runtime/metrics
 * Runtime measurements kept in a prom-client Registry of their own (not the global default), so
 * the HTTP transport can export them at /metrics and benchmarks can read batch statistics.
 * Names follow the original design: model_requests_total, model_request_duration_seconds,
 * model_tokens_processed_total, hardware_memory_used_bytes, queue_depth, plus models loaded,
 * batch sizes and per-phase durations.
 *
 * Per-request observations are queued and applied on the next event-loop turn (setImmediate),
 * after the response has been written: label hashing and histogram updates then cost the
 * client nothing, and every read of a metric applies what is queued first, so scrapes and
 * tests always see complete figures.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Priority } from './batcher.js';

/** Phase timings a backend reports for a batch (ms). */
export interface PhaseTimings {
  tokenizeMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

/** Request phases timed per batch or request. */
export type Phase = 'queue_wait' | 'tokenize' | 'inference' | 'postprocess' | 'load';

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'model_requests_total',
    help: 'Requests per model, device and outcome.',
    labelNames: ['model', 'hardware', 'status'] as const,
    registers: [this.registry],
    collect: () => this.flush(),
  });
  readonly duration = new Histogram({
    name: 'model_request_duration_seconds',
    help: 'Request latency per model and device.',
    labelNames: ['model', 'hardware'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
    collect: () => this.flush(),
  });
  readonly tokens = new Counter({
    name: 'model_tokens_processed_total',
    help: 'Tokens processed (input and generated) per model.',
    labelNames: ['model'] as const,
    registers: [this.registry],
    collect: () => this.flush(),
  });
  readonly memory = new Gauge({
    name: 'hardware_memory_used_bytes',
    help: 'Memory accounted to loaded models per device.',
    labelNames: ['hardware'] as const,
    registers: [this.registry],
  });
  private readonly depthByQueue = new Map<string, Record<Priority, number>>();
  /** Summed at scrape time from each queue's last reported depth (nothing to do per request). */
  readonly queueDepth = new Gauge({
    name: 'queue_depth',
    help: 'Queued units per priority, all models.',
    labelNames: ['priority'] as const,
    registers: [this.registry],
    collect: () => this.collectDepth(),
  });
  readonly modelsLoaded = new Gauge({ name: 'models_loaded', help: 'Models in memory.', registers: [this.registry] });
  readonly batchSize = new Histogram({
    name: 'batch_size',
    help: 'Units per dispatched batch.',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
    collect: () => this.flush(),
  });
  readonly phase = new Histogram({
    name: 'model_phase_duration_seconds',
    help: 'Time per phase: queue_wait, tokenize, inference, postprocess, load.',
    labelNames: ['model', 'phase'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
    collect: () => this.flush(),
  });
  readonly routeChoices = new Counter({
    name: 'router_choices_total',
    help: 'Models chosen for model "auto", per tool and model.',
    labelNames: ['tool', 'model'] as const,
    registers: [this.registry],
  });
  readonly evictions = new Counter({
    name: 'model_evictions_total',
    help: 'Models unloaded to fit the memory budget or after keep-alive.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private batches = 0;

  constructor() {
    collectDefaultMetrics({ register: this.registry }); // process CPU, memory, event-loop lag
  }
  private units = 0;
  private maxBatch = 0;

  /** Records a queue's depth (cheap; the gauge is computed when scraped). */
  setDepth(queue: string, d: Record<Priority, number>): void {
    this.depthByQueue.set(queue, d);
  }

  private collectDepth(): void {
    for (const p of ['high', 'normal', 'low'] as const) {
      let n = 0;
      for (const q of this.depthByQueue.values()) n += q[p];
      this.queueDepth.set({ priority: p }, n);
    }
  }

  private pending: Array<() => void> = [];
  private scheduled = false;

  /** Queues an observation for the next event-loop turn. */
  private later(record: () => void): void {
    this.pending.push(record);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Applies queued observations now (idempotent; called before every read). */
  flush(): void {
    this.scheduled = false;
    const queued = this.pending;
    this.pending = [];
    for (const record of queued) record();
  }

  /** Records a dispatched batch: its size and each unit's queue wait (ms). */
  observeBatch(model: string, size: number, waitsMs: number[]): void {
    this.batches++;
    this.units += size;
    this.maxBatch = Math.max(this.maxBatch, size);
    this.later(() => {
      this.batchSize.observe({ model }, size);
      for (const w of waitsMs) this.phase.observe({ model, phase: 'queue_wait' }, w / 1000);
    });
  }

  /** Records a batch's tokenize, inference and post-process times. */
  observePhases(model: string, t: PhaseTimings): void {
    this.later(() => {
      this.phase.observe({ model, phase: 'tokenize' }, t.tokenizeMs / 1000);
      this.phase.observe({ model, phase: 'inference' }, t.inferenceMs / 1000);
      this.phase.observe({ model, phase: 'postprocess' }, t.postprocessMs / 1000);
    });
  }

  /** Records a finished request (counted once per call, by the task layer): outcome (`ok` or an error code), latency (s) when it succeeded, tokens. */
  observeRequest(model: string, hardware: string, status: string, seconds?: number, tokens = 0): void {
    this.later(() => {
      this.requests.inc({ model, hardware, status });
      if (seconds !== undefined) this.duration.observe({ model, hardware }, seconds);
      if (tokens > 0) this.tokens.inc({ model }, tokens);
    });
  }

  /** Records tokens a model processed (input and generated). */
  observeTokens(model: string, tokens: number): void {
    if (tokens > 0) this.later(() => this.tokens.inc({ model }, tokens));
  }

  /** Batch statistics since start. */
  batchStats(): { batches: number; units: number; meanSize: number; maxSize: number } {
    return { batches: this.batches, units: this.units, meanSize: this.batches ? this.units / this.batches : 0, maxSize: this.maxBatch };
  }
}
