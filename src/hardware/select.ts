/**
 * @module hardware/select
 * Device choice as a pure function over a declared priority table. Given what the host and the
 * onnxruntime build can run, a skill's preference and a forced `--device`, it returns the
 * ordered list of devices to try (the loader falls back along it on session-creation failure).
 */
import type { Device } from '../skills/schema.js';

/** Best first. CPU is always last and always usable. */
export const DEVICE_PRIORITY: readonly Device[] = ['cuda', 'rocm', 'coreml', 'openvino', 'qnn', 'dml', 'webgpu', 'cpu'];

/** Raised when a forced device cannot be used; the message lists the valid options. */
export class DeviceSelectionError extends Error {
  override name = 'DeviceSelectionError';
}

/** Inputs of {@link selectDevices}. */
export interface SelectInput {
  /** Devices usable here (host has the hardware and the runtime supports it). */
  usable: readonly Device[];
  /** A skill's preferred devices, best first. */
  preference?: readonly Device[] | undefined;
  /** `--device`; `auto` or undefined means no override. */
  forced?: Device | 'auto' | undefined;
}

/**
 * The devices to try, best first, always ending with cpu.
 * - forced: exactly [forced, cpu] (cpu as fallback) — throws if forced is not usable;
 * - otherwise the skill's preference (usable ones) then the priority table. webgpu is only
 *   used when asked for, since its Node support is experimental.
 */
export function selectDevices(input: SelectInput): Device[] {
  const usable = new Set<Device>([...input.usable, 'cpu']);
  if (input.forced && input.forced !== 'auto') {
    if (!usable.has(input.forced)) {
      throw new DeviceSelectionError(`device "${input.forced}" is not usable here; valid: ${[...usable].join(', ')}`);
    }
    return input.forced === 'cpu' ? ['cpu'] : [input.forced, 'cpu'];
  }
  const order: Device[] = [];
  for (const d of input.preference ?? []) if (usable.has(d) && !order.includes(d)) order.push(d);
  for (const d of DEVICE_PRIORITY) if (d !== 'webgpu' && usable.has(d) && !order.includes(d)) order.push(d);
  if (!order.includes('cpu')) order.push('cpu');
  return order.slice(0, order.indexOf('cpu') + 1);
}
