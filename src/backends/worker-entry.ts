/**
 * @module backends/worker-entry
 * The body of a model worker thread: loads one model with the transformers.js backend (or the
 * raw onnxruntime backend for OCR and speech detection), then
 * runs requests from the main thread. onnxruntime-node computes on the calling thread, so doing
 * it here keeps the main thread's event loop (MCP I/O, other models, health checks) free.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorData } from '../errors.js';
import type { Backend, ModelHandle, TaskInput } from './types.js';
import { ONNX_TASKS } from './onnx/tasks.js';
import type { FromWorker, ToWorker, WireError, WorkerInit } from './worker-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const wire = (e: unknown): WireError => toErrorData(e);

const aborts = new Map<number, AbortController>();
let handle: ModelHandle | undefined;

port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') {
    aborts.get(m.id)?.abort();
    return;
  }
  if (m.type === 'dispose') {
    void (async () => {
      await handle?.dispose().catch(() => undefined);
      handle = undefined;
      send({ type: 'disposed' });
    })();
    return;
  }
  void run(m.id, m.input, m.stream);
});

async function run(id: number, input: ToWorker & { type: 'run' } extends { input: infer I } ? I : never, stream: boolean): Promise<void> {
  const ac = new AbortController();
  aborts.set(id, ac);
  try {
    if (!handle) throw new Error('model not loaded');
    const full = {
      ...input,
      signal: ac.signal,
      ...(stream ? { onText: (piece: string) => send({ type: 'text', id, piece }) } : {}),
    } as TaskInput;
    const output = await handle.run(full);
    const transfer = 'vectors' in output ? output.vectors.map((v) => v.buffer as ArrayBuffer) : [];
    send({ type: 'result', id, output }, transfer);
  } catch (e) {
    send({ type: 'error', id, error: wire(e) });
  } finally {
    aborts.delete(id);
  }
}

try {
  // Load only the library this model needs: OCR and VAD workers never import transformers.js.
  const backend: Backend = ONNX_TASKS.includes(init.request.task)
    ? new (await import('./onnx/backend.js')).OnnxBackend()
    : new (await import('./transformers.js')).TransformersBackend(init.options);
  handle = await backend.load({ ...init.request, onProgress: (progress) => send({ type: 'progress', progress }) });
  send({ type: 'ready', dtype: handle.dtype });
} catch (e) {
  send({ type: 'load-error', error: wire(e) });
}
