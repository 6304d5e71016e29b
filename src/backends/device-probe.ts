/**
 * @module backends/device-probe
 * Whether an execution provider really runs here: a tiny graph (y = x + x) is given a session
 * on the device alone and run once, under a timeout. Hardware and library checks only say a
 * device might work (WebGPU is "available" on a headless host with no Vulkan, then fails); a
 * device counts as usable once this has succeeded on it.
 */
import * as ort from 'onnxruntime-node';
import type { Device } from '../skills/schema.js';

/** The probe graph: one Add of a 4-float input to itself (opset 17), made by the model generator's builder. */
const PROBE_MODEL = Buffer.from(
  'CAgSFWhmLW1vZGVsLXNlcnZlci1wcm9iZTo+ChMKAXgKAXgSAXkaA2FkZCIDQWRkEgVwcm9iZVoPCgF4EgoKCAgBEgQKAggEYg8KAXkSCgoICAESBAoCCARCBAoAEBE=',
  'base64',
);

/** What a probe found. */
export interface DeviceProbe {
  ok: boolean;
  /** Why it is not usable (the provider's own message), when it is not. */
  reason?: string;
  /** What makes it usable, when it is not. */
  fix?: string;
  ms: number;
}

/** What usually makes each device work when its probe fails. */
const FIX: Partial<Record<Device, string>> = {
  webgpu:
    'WebGPU needs a GPU adapter: on Linux a GPU with Vulkan drivers (libvulkan1 and the vendor ICD); headless hosts without one use cpu',
  cuda: 'install onnxruntime-node with its CUDA provider libraries (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js) and CUDA 12 with cuDNN 9',
  dml: 'DirectML needs Windows 10 1903 or later with a DirectX 12 GPU',
  coreml: 'CoreML needs macOS on Apple silicon',
};

/** onnxruntime-node's execution provider name for each device. */
const PROVIDER: Partial<Record<Device, string>> = { cpu: 'cpu', cuda: 'cuda', webgpu: 'webgpu', dml: 'dml', coreml: 'coreml' };

/** Creates a session for the probe graph on `device` only and runs it once; never throws. */
export async function probeDevice(device: Device, timeoutMs = 20_000): Promise<DeviceProbe> {
  const t0 = performance.now();
  const provider = PROVIDER[device];
  if (!provider) return { ok: false, reason: `onnxruntime-node has no ${device} execution provider`, ms: 0 };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    const run = (async () => {
      // onnxruntime's own warnings (a missing Vulkan loader) would reach stderr unasked; the reason comes back here.
      const session = await ort.InferenceSession.create(PROBE_MODEL, { executionProviders: [provider], logSeverityLevel: 3 });
      try {
        const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
        const y = Array.from(out.y!.data as Float32Array);
        if (y.join() !== '2,4,6,8') throw new Error(`wrong answer from the ${device} provider: ${y.join()}`);
      } finally {
        await session.release();
      }
    })();
    await Promise.race([run, timeout]);
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (e) {
    // onnxruntime prefixes its messages with the source location; the rest is the reason.
    const reason = (e as Error).message
      .split('\n')[0]!
      .replace(/^\/onnxruntime_src\/\S+\s+/, '')
      .slice(0, 300);
    return { ok: false, reason, ...(FIX[device] ? { fix: FIX[device] } : {}), ms: Math.round(performance.now() - t0) };
  } finally {
    clearTimeout(timer);
  }
}
