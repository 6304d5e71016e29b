/**
 * @module hardware/probe
 * What the host has (CPU, memory, NVIDIA, AMD ROCm, Apple silicon, Intel OpenVINO targets,
 * Qualcomm QNN, WebGPU) and, separately, what the installed onnxruntime-node build can run.
 * The prebuilt onnxruntime-node runs CPU everywhere, CUDA on Linux x64 only when its CUDA
 * provider libraries are installed, CoreML on macOS, DirectML on Windows and WebGPU
 * (experimental); ROCm, OpenVINO and QNN need a custom onnxruntime build, and the report says so.
 * All inputs (files, commands, platform) are injectable so tests describe hosts we don't have.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { computeCores, quotaCpus, threadsPerCore } from './threads.js';
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
  /** Runs a command and returns stdout, or undefined if it is missing or fails. */
  run(cmd: string, args: string[]): string | undefined;
  cpuModel: string;
  cores: number;
  /** CPUs this process may run on (its affinity mask); default `cores`. */
  available?: number;
  totalMem: number;
  freeMem: number;
  /** Folder of onnxruntime-node's native binaries, if found. */
  ortBinDir: string | undefined;
}

/** One GPU as nvidia-smi (or /proc) reports it. */
export interface GpuInfo {
  name: string;
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
}

/** Whether a kind of hardware is present, and whether this onnxruntime build can use it. */
export interface AcceleratorInfo {
  present: boolean;
  /** usable: selected automatically; unsupported: present but needs another build or libraries. */
  runtime: 'usable' | 'unsupported' | 'absent';
  detail?: string;
}

/** The hardware report (the `hf://hardware` resource). */
export interface HardwareInfo {
  platform: string;
  arch: string;
  /** `cores`: logical CPUs; `computeCores`: what the engine sizes its threads by (hardware/threads.ts). */
  cpu: { model: string; cores: number; computeCores: number; flags: string[] };
  memory: { totalBytes: number; freeBytes: number };
  nvidia: AcceleratorInfo & { driver?: string; gpus: GpuInfo[] };
  rocm: AcceleratorInfo;
  apple: AcceleratorInfo;
  openvino: AcceleratorInfo & { targets: string[] };
  qnn: AcceleratorInfo;
  webgpu: AcceleratorInfo;
  runtime: {
    /** onnxruntime-node's native provider libraries found next to its binding. */
    providerLibraries: string[];
    /** Devices the selector may use, best first (cpu always last). */
    usable: Device[];
    notes: string[];
  };
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
    run: (cmd, args) => {
      try {
        return execFileSync(cmd, args, { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        return undefined;
      }
    },
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    available: availableParallelism(),
    totalMem: totalmem(),
    freeMem: freemem(),
    ortBinDir: ortBinDir(),
  };
}

const SIMD = ['sse4_2', 'avx', 'avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'fma', 'f16c', 'neon', 'asimd', 'sve'];
const MIB = 2 ** 20;

function nvidia(i: ProbeInputs): { driver?: string; gpus: GpuInfo[] } {
  const smi = i.run('nvidia-smi', ['--query-gpu=name,memory.total,memory.used,driver_version', '--format=csv,noheader,nounits']);
  if (smi && smi.trim()) {
    let driver: string | undefined;
    const gpus = smi
      .trim()
      .split('\n')
      .map((line) => {
        const [name, total, used, drv] = line.split(',').map((x) => x.trim());
        driver ??= drv;
        return { name: name ?? 'NVIDIA GPU', memoryTotalBytes: Number(total) * MIB, memoryUsedBytes: Number(used) * MIB };
      });
    return { ...(driver ? { driver } : {}), gpus };
  }
  const driver = /Kernel Module\s+([\d.]+)/.exec(i.readFile('/proc/driver/nvidia/version') ?? '')?.[1];
  const gpus = i
    .listDir('/proc/driver/nvidia/gpus')
    .map((g) => ({ name: /Model:\s*(.*)/.exec(i.readFile(`/proc/driver/nvidia/gpus/${g}/information`) ?? '')?.[1]?.trim() ?? g }));
  return { ...(driver ? { driver } : {}), gpus };
}

function openvinoTargets(i: ProbeInputs): string[] {
  const t: string[] = [];
  if (/intel/i.test(i.cpuModel)) t.push('CPU');
  for (const card of i.listDir('/sys/class/drm').filter((c) => /^card\d+$/.test(c))) {
    if ((i.readFile(`/sys/class/drm/${card}/device/vendor`) ?? '').trim() === '0x8086') {
      t.push('GPU');
      break;
    }
  }
  if (i.listDir('/dev/accel').some((d) => d.startsWith('accel')) && i.exists('/sys/module/intel_vpu')) t.push('NPU');
  return t;
}

const absent: AcceleratorInfo = { present: false, runtime: 'absent' };

/** Probes the host. Pure over its inputs. */
export function probeHardware(i: ProbeInputs = hostInputs()): HardwareInfo {
  const cpuinfo = i.readFile('/proc/cpuinfo') ?? '';
  const flagLine = /^(flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo)?.[2] ?? '';
  const flags = SIMD.filter((f) => flagLine.split(/\s+/).includes(f));
  const libs = i.ortBinDir ? i.listDir(i.ortBinDir).filter((f) => /providers|DirectML|dxcompiler|webgpu|dawn/i.test(f)) : [];
  const usable: Device[] = [];
  const notes: string[] = [];

  const nv = nvidia(i);
  const nvPresent = nv.driver !== undefined || nv.gpus.length > 0;
  let nvInfo: AcceleratorInfo = absent;
  if (nvPresent) {
    const hasCuda = i.platform === 'linux' && i.arch === 'x64' && libs.some((f) => f.startsWith('libonnxruntime_providers_cuda'));
    if (hasCuda) {
      usable.push('cuda');
      nvInfo = { present: true, runtime: 'usable' };
    } else {
      const detail =
        i.platform === 'linux' && i.arch === 'x64'
          ? 'onnxruntime-node has no CUDA provider libraries: run ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js (see Install notes in docs/development.md)'
          : `the prebuilt onnxruntime-node has no CUDA provider for ${i.platform}/${i.arch}`;
      nvInfo = { present: true, runtime: 'unsupported', detail };
      notes.push(`NVIDIA GPU present but not usable: ${detail}`);
    }
  }

  const rocmPresent = i.exists('/dev/kfd') || i.exists('/opt/rocm');
  const rocm: AcceleratorInfo = rocmPresent
    ? {
        present: true,
        runtime: 'unsupported',
        detail: 'ROCm needs an onnxruntime build with the ROCm/MIGraphX provider; the prebuilt onnxruntime-node has none',
      }
    : absent;
  if (rocmPresent) notes.push(`AMD ROCm present: ${rocm.detail}`);

  const applePresent = i.platform === 'darwin' && i.arch === 'arm64';
  const apple: AcceleratorInfo = applePresent ? { present: true, runtime: 'usable', detail: 'CoreML execution provider' } : absent;
  if (applePresent) usable.push('coreml');

  const targets = openvinoTargets(i);
  const openvino = targets.length
    ? { present: true, runtime: 'unsupported' as const, detail: 'OpenVINO needs an onnxruntime build with the OpenVINO provider', targets }
    : { ...absent, targets };

  const qnnPresent = /qualcomm|snapdragon/i.test(i.cpuModel) || i.listDir('/dev').some((d) => d.startsWith('fastrpc'));
  const qnn: AcceleratorInfo = qnnPresent
    ? { present: true, runtime: 'unsupported', detail: 'QNN needs an onnxruntime build with the QNN provider' }
    : absent;

  if (i.platform === 'win32') usable.push('dml');
  const webgpuBuild = (i.platform === 'linux' && i.arch === 'x64') || i.platform === 'darwin' || i.platform === 'win32';
  const webgpu: AcceleratorInfo = {
    present: nvPresent || applePresent || i.listDir('/dev/dri').length > 0,
    runtime: webgpuBuild ? 'usable' : 'absent',
    detail: 'experimental in onnxruntime-node: never chosen automatically, only with --device webgpu or a skill preference',
  };
  if (webgpuBuild) usable.push('webgpu');

  usable.push('cpu');
  return {
    platform: i.platform,
    arch: i.arch,
    cpu: {
      model: i.cpuModel,
      cores: i.cores,
      computeCores: computeCores({
        available: i.available ?? i.cores,
        threadsPerCore: threadsPerCore(i.readFile('/proc/cpuinfo')),
        quotaCpus: quotaCpus(
          i.readFile('/sys/fs/cgroup/cpu.max'),
          i.readFile('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'),
          i.readFile('/sys/fs/cgroup/cpu/cpu.cfs_period_us'),
        ),
      }),
      flags,
    },
    memory: { totalBytes: i.totalMem, freeBytes: i.freeMem },
    nvidia: { ...nvInfo, ...(nv.driver ? { driver: nv.driver } : {}), gpus: nv.gpus },
    rocm,
    apple,
    openvino,
    qnn,
    webgpu,
    runtime: { providerLibraries: libs, usable, notes },
  };
}
