/**
 * hardware_utilization_percent's sources: this process's CPU share (rises under real work,
 * stays within 0..100), nvidia-smi's CSV parsed per GPU, and the GPU query cached and bounded.
 */
import { describe, expect, it } from 'vitest';
import { CpuUtilization, GpuUtilization, NVIDIA_SMI_ARGS, parseNvidiaSmi } from '../../src/hardware/utilization.js';

describe('hardware utilisation', () => {
  it('CPU: busy work reads higher than idle, within 0..100', async () => {
    const cpu = new CpuUtilization(1);
    cpu.read();
    const until = performance.now() + 150;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const busy = cpu.read();
    await new Promise((r) => setTimeout(r, 150));
    const idle = cpu.read();
    expect(x).toBeGreaterThan(0);
    expect(busy).toBeGreaterThan(50);
    expect(idle).toBeLessThan(busy);
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(busy).toBeLessThanOrEqual(100);
  });

  it('parses nvidia-smi per GPU, skipping lines it cannot read', () => {
    expect(parseNvidiaSmi('0, 37, 1024\n1, 0, 512\n[N/A], x, y\n\n')).toEqual([
      { hardware: 'cuda:0', utilizationPercent: 37, memoryUsedBytes: 1024 * 1024 * 1024 },
      { hardware: 'cuda:1', utilizationPercent: 0, memoryUsedBytes: 512 * 1024 * 1024 },
    ]);
  });

  it('queries nvidia-smi with the documented arguments at most once per interval; a failure reads as no GPUs', async () => {
    const calls: string[][] = [];
    const gpu = new GpuUtilization({ maxAgeMs: 60_000, run: async (args) => (calls.push(args), '0, 55, 100\n') });
    const [a, b] = await Promise.all([gpu.read(), gpu.read()]);
    expect(a).toEqual(b);
    expect(a[0]!.utilizationPercent).toBe(55);
    await gpu.read();
    expect(calls).toEqual([NVIDIA_SMI_ARGS]);
    const broken = new GpuUtilization({ run: async () => Promise.reject(new Error('nvidia-smi: not found')) });
    expect(await broken.read()).toEqual([]);
  });
});
