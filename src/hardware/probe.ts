/**
 * @module hardware/probe
 * What the host has (CPU, memory, NVIDIA GPUs) and which execution providers the installed
 * onnxruntime-node build can actually run. Inputs (files, platform) are injectable so tests
 * can describe hosts we do not have.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem, freemem } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Device } from '../skills/schema.js';

/** Host facts the probe reads; all injectable. */
export interface ProbeInputs {
  platform: NodeJS.Platform;
  arch: string;
  readFile(path: string): string | undefined;
  exists(path: string): boolean;
  listDir(path: string): string[];
  cpuModel: string;
  cores: number;
  totalMem: number;
  freeMem: number;
  /** Folder of onnxruntime-node's native binaries, if found. */
  ortBinDir: string | undefined;
}

/** The hardware report (the `hf://hardware` resource). */
export interface HardwareInfo {
  platform: string;
  arch: string;
  cpu: { model: string; cores: number; flags: string[] };
  memory: { totalBytes: number; freeBytes: number };
  nvidia: { present: boolean; driver?: string; gpus: string[] };
  runtime: { usable: Device[]; notes: string[] };
}

function ortBinDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
    const dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The real host's inputs. */
export function hostInputs(): ProbeInputs {
  return {
    platform: process.platform,
    arch: process.arch,
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: existsSync,
    listDir: (p) => {
      try {
        return readdirSync(p);
      } catch {
        return [];
      }
    },
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    totalMem: totalmem(),
    freeMem: freemem(),
    ortBinDir: ortBinDir(),
  };
}

const SIMD = ['sse4_2', 'avx', 'avx2', 'avx512f', 'avx512_vnni', 'amx_tile', 'fma', 'f16c', 'neon', 'asimd'];

/** Probes the host. Pure over its inputs. */
export function probeHardware(i: ProbeInputs = hostInputs()): HardwareInfo {
  const cpuinfo = i.readFile('/proc/cpuinfo') ?? '';
  const flagLine = /^(flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo)?.[2] ?? '';
  const flags = SIMD.filter((f) => flagLine.split(/\s+/).includes(f));
  const driver = /Kernel Module\s+([\d.]+)/.exec(i.readFile('/proc/driver/nvidia/version') ?? '')?.[1];
  const gpus = i
    .listDir('/proc/driver/nvidia/gpus')
    .map((g) => /Model:\s*(.*)/.exec(i.readFile(`/proc/driver/nvidia/gpus/${g}/information`) ?? '')?.[1]?.trim() ?? g);
  const nvidiaPresent = driver !== undefined || gpus.length > 0;
  const usable: Device[] = ['cpu'];
  const notes: string[] = [];
  if (nvidiaPresent) {
    const libs = i.ortBinDir ? i.listDir(i.ortBinDir) : [];
    if (i.platform === 'linux' && libs.some((f) => f.startsWith('libonnxruntime_providers_cuda'))) usable.unshift('cuda');
    else notes.push('NVIDIA GPU present but onnxruntime-node has no CUDA provider libraries: reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
  }
  if (i.platform === 'darwin' && i.arch === 'arm64') usable.unshift('coreml');
  if (i.platform === 'win32') usable.unshift('dml');
  if (i.exists('/dev/kfd') || i.exists('/opt/rocm')) notes.push('AMD ROCm present, but ROCm needs a custom onnxruntime build; using other devices');
  return {
    platform: i.platform,
    arch: i.arch,
    cpu: { model: i.cpuModel, cores: i.cores, flags },
    memory: { totalBytes: i.totalMem, freeBytes: i.freeMem },
    nvidia: { present: nvidiaPresent, ...(driver ? { driver } : {}), gpus },
    runtime: { usable, notes },
  };
}
