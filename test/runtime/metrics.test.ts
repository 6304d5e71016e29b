/**
 * Runtime metrics: per-request observations are applied after the response (next event-loop
 * turn), yet every read sees them.
 */
import { describe, expect, it } from 'vitest';
import { RuntimeMetrics } from '../../src/runtime/metrics.js';

const value = async (m: RuntimeMetrics, name: string, labels: Record<string, string>) =>
  (await m.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

describe('RuntimeMetrics', () => {
  it('shows queued observations to a read made before the next event-loop turn', async () => {
    const m = new RuntimeMetrics();
    m.observeRequest('a', 'cpu', 'ok', 0.004, 23);
    m.observeRequest('a', 'cpu', 'timeout');
    m.observePhases('a', { tokenizeMs: 0.1, inferenceMs: 4, postprocessMs: 0.05 });
    m.observeBatch('a', 3, [1, 2, 3]);
    // Counters used by benchmarks are immediate.
    expect(m.batchStats()).toEqual({ batches: 1, units: 3, meanSize: 3, maxSize: 3 });
    expect(await value(m, 'model_requests_total', { model: 'a', status: 'ok' })).toBe(1);
    expect(await value(m, 'model_requests_total', { model: 'a', status: 'timeout' })).toBe(1);
    expect(await value(m, 'model_tokens_processed_total', { model: 'a' })).toBe(23);
    expect((await m.duration.get()).values.find((v) => v.metricName === 'model_request_duration_seconds_sum')?.value).toBeCloseTo(0.004, 6);
    const phases = (await m.phase.get()).values.filter((v) => v.metricName === 'model_phase_duration_seconds_count');
    expect(Object.fromEntries(phases.map((v) => [v.labels.phase, v.value]))).toEqual({
      tokenize: 1,
      inference: 1,
      postprocess: 1,
      queue_wait: 3,
    });
    expect((await m.batchSize.get()).values.find((v) => v.metricName === 'batch_size_sum')?.value).toBe(3);
  });

  it('applies queued observations on its own on the next turn, once', async () => {
    const m = new RuntimeMetrics();
    m.observeRequest('b', 'cpu', 'ok', 0.001, 5);
    await new Promise((r) => setImmediate(r));
    m.flush(); // nothing left: no double counting
    expect(await value(m, 'model_tokens_processed_total', { model: 'b' })).toBe(5);
    expect(await value(m, 'model_requests_total', { model: 'b' })).toBe(1);
  });
});
