/**
 * @module backends/worker-protocol
 * Messages between the main thread and a model's worker thread (backends/worker.ts and
 * backends/worker-entry.ts). Callbacks and signals do not cross threads, so streamed text and
 * aborts travel as messages.
 */
import type { ErrorData } from '../errors.js';
import type { LoadProgress, LoadRequest, TaskInput } from './types.js';
import type { TransformersBackendOptions } from './transformers.js';

/** A TaskInput without its callbacks and signal. */
export type WireInput = TaskInput extends infer T ? (T extends TaskInput ? Omit<T, 'onText' | 'signal'> : never) : never;

/** workerData of a model worker. */
export interface WorkerInit {
  options: TransformersBackendOptions;
  request: Omit<LoadRequest, 'onProgress'>;
}

export type ToWorker = { type: 'run'; id: number; input: WireInput; stream: boolean } | { type: 'abort'; id: number } | { type: 'dispose' };

export type WireError = ErrorData;

export type FromWorker =
  | { type: 'progress'; progress: LoadProgress }
  | { type: 'ready'; dtype: string }
  | { type: 'load-error'; error: WireError }
  | { type: 'text'; id: number; piece: string }
  | { type: 'result'; id: number; output: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'disposed' };
