/**
 * Device selection over injected hosts (pure function), and the probe on described hosts.
 */
import { describe, expect, it } from 'vitest';
import { DeviceSelectionError, selectDevices } from '../../src/hardware/select.js';
import { probeHardware, type ProbeInputs } from '../../src/hardware/probe.js';

function host(files: Record<string, string>, dirs: Record<string, string[]> = {}, over: Partial<ProbeInputs> = {}): ProbeInputs {
  return {
    platform: 'linux',
    arch: 'x64',
    readFile: (p) => files[p],
    exists: (p) => p in files || p in dirs,
    listDir: (p) => dirs[p] ?? [],
    run: () => undefined,
    cpuModel: 'Test CPU',
    cores: 8,
    totalMem: 16e9,
    freeMem: 8e9,
    ortBinDir: '/ort',
    ...over,
  };
}

const NVIDIA = {
  '/proc/driver/nvidia/version': 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue',
  '/proc/driver/nvidia/gpus/0000:01:00.0/information': 'Model: \t NVIDIA H100 80GB HBM3\n',
};

describe('selectDevices', () => {
  it('prefers cuda then falls back to cpu', () => {
    expect(selectDevices({ usable: ['cuda', 'cpu'] })).toEqual(['cuda', 'cpu']);
  });
  it('uses cpu only on a cpu host', () => {
    expect(selectDevices({ usable: ['cpu'] })).toEqual(['cpu']);
  });
  it('honours a skill preference among usable devices', () => {
    expect(selectDevices({ usable: ['cuda', 'cpu'], preference: ['cpu'] })).toEqual(['cpu']);
    expect(selectDevices({ usable: ['cpu'], preference: ['cuda', 'cpu'] })).toEqual(['cpu']);
  });
  it('a forced device wins, and an unusable one lists the valid options', () => {
    expect(selectDevices({ usable: ['cuda', 'cpu'], forced: 'cpu' })).toEqual(['cpu']);
    expect(() => selectDevices({ usable: ['cpu'], forced: 'cuda' })).toThrow(DeviceSelectionError);
    expect(() => selectDevices({ usable: ['cpu'], forced: 'cuda' })).toThrow(/valid: cpu/);
  });
});

describe('probeHardware', () => {
  it('CUDA present without provider libraries: cpu only, with a note on how to fix', () => {
    const hw = probeHardware(
      host(NVIDIA, { '/proc/driver/nvidia/gpus': ['0000:01:00.0'], '/ort': ['libonnxruntime.so.1', 'onnxruntime_binding.node'] }),
    );
    expect(hw.nvidia).toMatchObject({
      present: true,
      runtime: 'unsupported',
      driver: '550.54.15',
      gpus: [{ name: 'NVIDIA H100 80GB HBM3' }],
    });
    expect(hw.runtime.usable).toEqual(['webgpu', 'cpu']);
    expect(selectDevices({ usable: hw.runtime.usable })).toEqual(['cpu']);
    expect(hw.runtime.notes.join()).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });
  it('CUDA with provider libraries is usable', () => {
    const hw = probeHardware(
      host(NVIDIA, {
        '/proc/driver/nvidia/gpus': ['0000:01:00.0'],
        '/ort': ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'],
      }),
    );
    expect(hw.runtime.usable).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(selectDevices({ usable: hw.runtime.usable })).toEqual(['cuda', 'cpu']);
  });
  it('reads GPUs and memory from nvidia-smi when it is there', () => {
    const hw = probeHardware({
      ...host({}),
      run: (cmd) => (cmd === 'nvidia-smi' ? 'NVIDIA H200, 143771, 0, 580.159.03\n' : undefined),
    });
    expect(hw.nvidia).toMatchObject({
      present: true,
      driver: '580.159.03',
      gpus: [{ name: 'NVIDIA H200', memoryTotalBytes: 143771 * 2 ** 20 }],
    });
  });
  it('ROCm is reported but needs a custom build', () => {
    const hw = probeHardware(host({ '/dev/kfd': '' }));
    expect(hw.rocm).toMatchObject({ present: true, runtime: 'unsupported' });
    expect(selectDevices({ usable: hw.runtime.usable })).toEqual(['cpu']);
    expect(hw.runtime.notes.join()).toMatch(/ROCm present: .*onnxruntime build/);
  });
  it('Apple silicon gets CoreML', () => {
    const hw = probeHardware(host({}, {}, { platform: 'darwin', arch: 'arm64' }));
    expect(hw.apple.runtime).toBe('usable');
    expect(selectDevices({ usable: hw.runtime.usable })).toEqual(['coreml', 'cpu']);
  });
  it('a CPU-only host selects cpu only', () => {
    const hw = probeHardware(host({}, {}, { cpuModel: 'AMD EPYC' }));
    expect(hw.nvidia.present).toBe(false);
    expect(selectDevices({ usable: hw.runtime.usable })).toEqual(['cpu']);
    expect(selectDevices({ usable: hw.runtime.usable, forced: 'webgpu' })).toEqual(['webgpu', 'cpu']);
  });
  it('Intel hosts report OpenVINO targets that need a custom build', () => {
    const hw = probeHardware(
      host(
        { '/sys/class/drm/card0/device/vendor': '0x8086\n' },
        { '/sys/class/drm': ['card0', 'renderD128'] },
        { cpuModel: 'Intel(R) Xeon(R)' },
      ),
    );
    expect(hw.openvino).toMatchObject({ present: true, runtime: 'unsupported', targets: ['CPU', 'GPU'] });
  });
  it('reads SIMD flags from /proc/cpuinfo', () => {
    expect(probeHardware(host({ '/proc/cpuinfo': 'flags\t\t: fpu sse4_2 avx avx2 fma\n' })).cpu.flags).toEqual([
      'sse4_2',
      'avx',
      'avx2',
      'fma',
    ]);
  });
});
