/**
 * @module backends/worker
 * Runs each loaded model in its own worker thread. onnxruntime-node computes on the thread
 * that calls `session.run`, so on the main thread every inference blocked the event loop: no
 * request parsing, responses, progress or other models meanwhile. With a worker per model the
 * main thread keeps serving while models compute, models compute in parallel, and unloading
 * terminates the thread, which releases everything the model held. A crashed worker fails only
 * its own requests. A model may run as several replicas (hardware/threads.ts), one thread each.
 */
import { probeDevice, type DeviceProbe } from './device-probe.js';
import { ServerError, fromErrorData } from '../errors.js';
import { startWorkerThread } from '../process/worker-thread.js';
import type { Device, Dtype, Task } from '../skills/schema.js';
import type { TransformersBackendOptions } from './transformers.js';
import { TRANSFORMERS_TASKS, platformDevices } from './transformers-tasks.js';
import { ONNX_TASKS } from './onnx/tasks.js';
import type { Backend, LoadRequest, ModelHandle, TaskInput, TaskOutput } from './types.js';
import type { FromWorker, ToWorker, WireInput, WorkerInit } from './worker-protocol.js';

/**
 * The image buffer an input hands to the worker instead of copying it: cloning a large image
 * stalls the main thread. Only a buffer the pixels own whole, allocated by JavaScript (the media
 * decoding threads make them so), moves; the tools read only the image's size after the run.
 */
function movablePixels(input: object): ArrayBuffer[] {
  const data = (input as { image?: { data?: Uint8Array } }).image?.data;
  if (!data || !(data.buffer instanceof ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) return [];
  return [data.buffer];
}

/** One handle over several replicas of a model: each run goes to the replica with the fewest runs in flight. */
function replicated(replicas: ModelHandle[]): ModelHandle {
  const inFlight = replicas.map(() => 0);
  const first = replicas[0]!;
  return {
    task: first.task,
    device: first.device,
    dtype: first.dtype,
    run: async (input) => {
      let k = 0;
      for (let i = 1; i < replicas.length; i++) if (inFlight[i]! < inFlight[k]!) k = i;
      inFlight[k]!++;
      try {
        return await replicas[k]!.run(input);
      } finally {
        inFlight[k]!--;
      }
    },
    dispose: async () => {
      await Promise.all(replicas.map((h) => h.dispose()));
    },
  };
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onText?: ((piece: string) => void) | undefined;
  cleanup(): void;
}

/** The transformers.js and onnxruntime backends, one worker thread per loaded model. */
export class WorkerBackend implements Backend {
  readonly name = 'transformers.js + onnxruntime (worker threads)';
  readonly tasks: readonly Task[] = [...TRANSFORMERS_TASKS, ...ONNX_TASKS];
  readonly devices: readonly Device[] = platformDevices();

  constructor(private readonly options: TransformersBackendOptions) {}

  /** A real session on `device` (backends/device-probe.ts). */
  probe(device: Device): Promise<DeviceProbe> {
    return probeDevice(device);
  }

  /**
   * Loads the model in `req.replicas` worker threads (default 1), each with its own session;
   * if any replica fails to load, the others are disposed and the load fails.
   */
  async load(req: LoadRequest): Promise<ModelHandle> {
    const n = Math.max(1, req.replicas ?? 1);
    if (n === 1) return this.loadOne(req);
    // Load progress is reported once, by the first replica.
    const settled = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => this.loadOne(i === 0 ? req : { ...req, onProgress: undefined })),
    );
    const handles = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(handles.map((h) => h.dispose()));
      throw failed.reason;
    }
    return replicated(handles);
  }

  private loadOne(req: LoadRequest): Promise<ModelHandle> {
    if (!this.tasks.includes(req.task)) return Promise.reject(new ServerError('unsupported_task', `no backend serves ${req.task}`));
    const { onProgress, ...request } = req;
    const worker = startWorkerThread(import.meta.url, 'worker-entry', { options: this.options, request } satisfies WorkerInit);
    const pending = new Map<number, Pending>();
    let nextId = 0;
    let dead: ServerError | undefined;
    let disposed: (() => void) | undefined;

    const failAll = (err: ServerError) => {
      dead ??= err;
      for (const p of pending.values()) {
        p.cleanup();
        p.reject(err);
      }
      pending.clear();
    };

    return new Promise<ModelHandle>((resolveLoad, rejectLoad) => {
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'progress':
            onProgress?.(m.progress);
            break;
          case 'ready':
            ready = true;
            resolveLoad(handle(m.dtype as Dtype));
            break;
          case 'load-error':
            void worker.terminate();
            rejectLoad(fromErrorData(m.error));
            break;
          case 'text':
            pending.get(m.id)?.onText?.(m.piece);
            break;
          case 'result':
          case 'error': {
            const p = pending.get(m.id);
            if (!p) break;
            pending.delete(m.id);
            p.cleanup();
            if (m.type === 'result') p.resolve(m.output);
            else p.reject(fromErrorData(m.error));
            break;
          }
          case 'disposed':
            disposed?.();
            break;
        }
      });
      worker.on('error', (e) => {
        const err = new ServerError(
          ready ? 'inference_failed' : 'model_load_failed',
          `model worker for "${req.source}" failed: ${e.message}`,
          { cause: e },
        );
        if (!ready) rejectLoad(err);
        failAll(err);
      });
      worker.on('exit', (code) => {
        const err = new ServerError(
          ready ? 'inference_failed' : 'model_load_failed',
          `model worker for "${req.source}" exited (code ${code})`,
        );
        if (!ready) rejectLoad(err);
        failAll(err);
        disposed?.();
      });

      const handle = (dtype: Dtype): ModelHandle => ({
        task: req.task,
        device: req.device,
        dtype,
        run: <I extends TaskInput>(input: I): Promise<TaskOutput<I>> => {
          if (dead) return Promise.reject(dead);
          const id = nextId++;
          const { onText, signal, ...rest } = input as TaskInput & { onText?: (p: string) => void; signal?: AbortSignal };
          return new Promise<TaskOutput<I>>((resolve, reject) => {
            const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies ToWorker);
            signal?.addEventListener('abort', onAbort, { once: true });
            pending.set(id, {
              resolve: resolve as (v: unknown) => void,
              reject,
              onText,
              cleanup: () => signal?.removeEventListener('abort', onAbort),
            });
            worker.postMessage(
              { type: 'run', id, input: rest as WireInput, stream: onText !== undefined } satisfies ToWorker,
              movablePixels(rest),
            );
            if (signal?.aborted) onAbort();
          });
        },
        dispose: async () => {
          if (dead && pending.size === 0) {
            await worker.terminate();
            return;
          }
          await new Promise<void>((resolve) => {
            disposed = resolve;
            worker.postMessage({ type: 'dispose' } satisfies ToWorker);
            setTimeout(resolve, 5000).unref();
          });
          dead ??= new ServerError('model_load_failed', `model "${req.source}" was unloaded`);
          await worker.terminate();
        },
      });
    });
  }
}
