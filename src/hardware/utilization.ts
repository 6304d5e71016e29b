/**
 * @module hardware/utilization
 * How busy the hardware is, for `hardware_utilization_percent{hardware}`: this process's CPU
 * time over wall time since the last reading (as a share of all cores), and each NVIDIA GPU's
 * utilisation and memory as `nvidia-smi` reports them, queried at most every few seconds and
 * only on hosts where the probe found an NVIDIA GPU.
 */
import { execFile } from 'node:child_process';

/** Process CPU use since the previous reading, in percent of all cores (0..100). */
export class CpuUtilization {
  private last = { cpu: process.cpuUsage(), at: performance.now() };

  constructor(private readonly cores: number) {}

  read(): number {
    const cpu = process.cpuUsage();
    const at = performance.now();
    const usedUs = cpu.user - this.last.cpu.user + (cpu.system - this.last.cpu.system);
    const wallUs = (at - this.last.at) * 1000;
    this.last = { cpu, at };
    if (wallUs <= 0) return 0;
    return Math.max(0, Math.min(100, (usedUs / wallUs / Math.max(1, this.cores)) * 100));
  }
}

/** One GPU's reading. */
export interface GpuReading {
  /** Device label, `cuda:<index>`. */
  hardware: string;
  utilizationPercent: number;
  memoryUsedBytes: number;
}

/** The query `nvidia-smi` answers, in CSV without header or units. */
export const NVIDIA_SMI_ARGS = ['--query-gpu=index,utilization.gpu,memory.used', '--format=csv,noheader,nounits'];

/** Parses `nvidia-smi` output for {@link NVIDIA_SMI_ARGS}; lines it cannot read are skipped. */
export function parseNvidiaSmi(out: string): GpuReading[] {
  const readings: GpuReading[] = [];
  for (const line of out.split('\n')) {
    const [index, util, mem] = line.split(',').map((x) => x.trim());
    const i = Number(index);
    const u = Number(util);
    const m = Number(mem);
    if (!line.trim() || !Number.isInteger(i) || !Number.isFinite(u) || !Number.isFinite(m)) continue;
    readings.push({ hardware: `cuda:${i}`, utilizationPercent: u, memoryUsedBytes: m * 1024 * 1024 });
  }
  return readings;
}

/** Queries `nvidia-smi` (bounded by a timeout), keeping the last answer for `maxAgeMs`. */
export class GpuUtilization {
  private cached: { at: number; readings: GpuReading[] } | undefined;
  private inFlight: Promise<GpuReading[]> | undefined;

  constructor(
    private readonly o: { maxAgeMs?: number; timeoutMs?: number; run?: (args: string[], timeoutMs: number) => Promise<string> } = {},
  ) {}

  async read(): Promise<GpuReading[]> {
    const maxAge = this.o.maxAgeMs ?? 5000;
    if (this.cached && Date.now() - this.cached.at < maxAge) return this.cached.readings;
    this.inFlight ??= (this.o.run ?? runNvidiaSmi)(NVIDIA_SMI_ARGS, this.o.timeoutMs ?? 2000)
      .then((out) => parseNvidiaSmi(out))
      .catch(() => [] as GpuReading[])
      .then((readings) => {
        this.cached = { at: Date.now(), readings };
        this.inFlight = undefined;
        return readings;
      });
    return this.inFlight;
  }
}

function runNvidiaSmi(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nvidia-smi', args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
