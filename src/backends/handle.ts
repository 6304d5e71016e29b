/**
 * @module backends/handle
 * The one wrapper every backend's loaded model goes through: requests are dispatched by a
 * declared task-to-handler table (typed per task, so the only cast from a task's input to its
 * output type is here), a disposed model answers `model_load_failed`, a task the model was not
 * loaded for answers `unsupported_task`, and anything a handler throws becomes a catalogued error
 * (an abort is `cancelled`, anything else not already catalogued is `inference_failed`).
 */
import { ServerError } from '../errors.js';
import type { Device, Dtype, Task } from '../skills/schema.js';
import type { InputOf, ModelHandle, TaskInput, TaskOutput } from './types.js';

/** Handlers for the tasks a loaded model serves, each typed by its task. */
export type TaskHandlers = { [T in TaskInput['task']]?: (input: InputOf<T>) => Promise<TaskOutput<InputOf<T>>> };

/** Maps anything a handler throws to a catalogued error. */
export function inferenceError(e: unknown): ServerError {
  if (e instanceof ServerError) return e;
  if ((e as { name?: string }).name === 'AbortError') return new ServerError('cancelled', 'request cancelled by the client');
  return new ServerError('inference_failed', `inference failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** A loaded model running `handlers`; `release` frees what it holds (called once, on dispose). */
export function makeHandle(o: {
  source: string;
  task: Task;
  device: Device;
  dtype: Dtype;
  handlers: TaskHandlers;
  release: () => Promise<void>;
}): ModelHandle {
  let live = true;
  return {
    task: o.task,
    device: o.device,
    dtype: o.dtype,
    run: async <I extends TaskInput>(input: I): Promise<TaskOutput<I>> => {
      if (!live) throw new ServerError('model_load_failed', `model "${o.source}" was unloaded`);
      const handler = o.handlers[input.task] as ((i: I) => Promise<TaskOutput<I>>) | undefined;
      if (!handler) throw new ServerError('unsupported_task', `model loaded for ${o.task} cannot run ${input.task}`);
      try {
        return await handler(input);
      } catch (e) {
        throw inferenceError(e);
      }
    },
    dispose: async () => {
      if (!live) return;
      live = false;
      await o.release();
    },
  };
}
