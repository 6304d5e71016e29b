/**
 * @module runtime/executor
 * Runs task requests on loaded models under a global limit of inference slots (p-limit).
 * A request borrows its model from the loader for exactly as long as it runs, and a request
 * cancelled while it waits for a slot never runs.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { LoadProgress, TaskInput, TaskOutput } from '../backends/types.js';
import { ServerError } from '../errors.js';
import type { ModelLoader } from './loader.js';

/** Per-request options. */
export interface RunOptions {
  signal?: AbortSignal | undefined;
  onLoadProgress?: ((p: LoadProgress) => void) | undefined;
}

/** Executes requests; `maxConcurrency` inference calls at once. */
export class Executor {
  private readonly limit: LimitFunction;

  constructor(
    private readonly loader: ModelLoader,
    maxConcurrency: number,
  ) {
    this.limit = pLimit(maxConcurrency);
  }

  /** Requests waiting for a slot. */
  get pending(): number {
    return this.limit.pendingCount;
  }

  /** Runs `input` on the model of skill `model`. */
  async run<I extends TaskInput>(model: string, input: I, opts: RunOptions = {}): Promise<TaskOutput<I>> {
    const cancelled = () => new ServerError('cancelled', 'request cancelled by the client');
    if (opts.signal?.aborted) throw cancelled();
    const lease = await this.loader.acquire(model, input.task, opts.onLoadProgress);
    try {
      return await this.limit(async () => {
        if (opts.signal?.aborted) throw cancelled();
        return lease.handle.run(input);
      });
    } finally {
      lease.release();
    }
  }
}
