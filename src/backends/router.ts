/**
 * @module backends/router
 * One Backend over several: each load goes to the first backend that serves the task. Used for
 * in-process inference (--inference-thread main), where transformers.js pipelines and raw
 * onnxruntime models (OCR, speech detection) live side by side.
 */
import { probeDevice, type DeviceProbe } from './device-probe.js';
import { ServerError } from '../errors.js';
import type { Device, Task } from '../skills/schema.js';
import type { Backend, LoadRequest, ModelHandle } from './types.js';

/** Routes loads by task. */
export class RouterBackend implements Backend {
  readonly name: string;
  readonly tasks: readonly Task[];
  readonly devices: readonly Device[];

  constructor(private readonly backends: readonly Backend[]) {
    this.name = backends.map((b) => b.name).join(' + ');
    this.tasks = [...new Set(backends.flatMap((b) => b.tasks))];
    // A device is offered when every backend can use it, so a fallback order holds for all models.
    this.devices = backends.reduce<Device[]>((acc, b) => acc.filter((d) => b.devices.includes(d)), [...(backends[0]?.devices ?? [])]);
  }

  /** A real session on `device` (backends/device-probe.ts). */
  probe(device: Device): Promise<DeviceProbe> {
    return probeDevice(device);
  }

  load(req: LoadRequest): Promise<ModelHandle> {
    const b = this.backends.find((x) => x.tasks.includes(req.task));
    if (!b) return Promise.reject(new ServerError('unsupported_task', `no backend serves ${req.task}`));
    return b.load(req);
  }
}
