/**
 * @module runtime/batcher
 * Dynamic batching for one model and task. Requests are split into units (one text each) that
 * queue by priority; a batch takes units with the same parameter key only (requests with
 * different parameters are never merged), bounded by max batch size and max batch tokens, and
 * results are reassembled in each request's order.
 *
 * Fairness: within a priority, units are served in start-time fair order across clients, not in
 * arrival order. Each client's units get virtual start times that advance by their token
 * estimates from where that client left off (or from the queue's current virtual time, for a
 * client that was idle), so a client that dumps a thousand inputs queues them behind the first
 * units of everyone who arrives afterwards, instead of ahead of all of them; a client alone
 * still gets the whole queue. One client may also hold at most `maxQueuePerClient` queued units,
 * so its backlog cannot fill the queue against the others.
 *
 * Scheduling: a queue runs at most `maxConcurrentBatches` batches at once (default 1). When no
 * batch is running, queued units start at once (no added latency); units arriving meanwhile form
 * the next batch. When a batch is already running and another may run beside it, a partial batch
 * waits up to `maxWaitMs` to fill first. The queue depth is bounded: past `maxQueue` units a
 * request is refused with a retryable `overloaded` error and a retry hint. A cancelled request's
 * queued units are removed before they run.
 */
import { ServerError } from '../errors.js';

/** Request priority; higher priorities are dispatched first. */
export type Priority = 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** Batcher settings. */
export interface BatcherOptions<U, R> {
  /** Units per batch at most. */
  maxBatchSize: number;
  /** Sum of unit token estimates per batch at most (a single larger unit still runs alone). */
  maxBatchTokens: number;
  /** How long a partial batch waits to fill when another batch is running (ms). */
  maxWaitMs: number;
  /** Queued units at most, across priorities. */
  maxQueue: number;
  /** Queued units one client may hold at most (default: `maxQueue`). */
  maxQueuePerClient?: number;
  /** Batches of this queue running at once. Default 1. */
  maxConcurrentBatches?: number;
  /** Token estimate of a unit. */
  tokens(unit: U): number;
  /** Runs one batch; must return one result per unit, in order. */
  run(key: string, units: U[]): Promise<R[]>;
  /** Observes each dispatched batch (size, tokens, and each unit's queue wait in ms). */
  onBatch?(info: { key: string; size: number; tokens: number; waitsMs: number[] }): void;
  /** Observes queue depth changes per priority. */
  onDepth?(depth: Record<Priority, number>): void;
  /** Clock (ms), injectable for tests. Default Date.now. */
  now?: () => number;
}

/** Per-request options. */
export interface SubmitOptions {
  priority?: Priority | undefined;
  signal?: AbortSignal | undefined;
  /** Who asks (a key, token subject, address or local process); requests without one share a name. */
  client?: string | undefined;
}

interface Request<R> {
  results: R[];
  remaining: number;
  settled: boolean;
  resolve(r: R[]): void;
  reject(e: unknown): void;
}

interface Item<U, R> {
  unit: U;
  index: number;
  key: string;
  tokens: number;
  enqueuedAt: number;
  req: Request<R>;
  client: string;
  /** Virtual start time (fair order within a priority). */
  vstart: number;
}

/** A dynamic batcher (one per model and task). */
export class Batcher<U, R> {
  private readonly queues: Record<Priority, Array<Item<U, R>>> = { high: [], normal: [], low: [] };
  private running = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private avgBatchMs = 0;
  private readonly now: () => number;
  /** The virtual time of the last dispatched unit, and where each queued client's next unit starts. */
  private vnow = 0;
  private readonly vnext = new Map<string, number>();
  /** Queued units per client. */
  private readonly perClient = new Map<string, number>();

  constructor(private readonly o: BatcherOptions<U, R>) {
    this.now = o.now ?? Date.now;
  }

  /** Queued units (all priorities). */
  get depth(): number {
    return this.queues.high.length + this.queues.normal.length + this.queues.low.length;
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Queues `units` (all sharing parameter `key`) and resolves with their results in order. */
  submit(units: U[], key: string, opts: SubmitOptions = {}): Promise<R[]> {
    if (units.length === 0) return Promise.resolve([]);
    if (opts.signal?.aborted) return Promise.reject(new ServerError('cancelled', 'request cancelled by the client'));
    if (this.depth + units.length > this.o.maxQueue) {
      const batchesAhead = Math.ceil((this.depth + units.length) / this.o.maxBatchSize);
      const retryAfterMs = Math.max(50, Math.round(batchesAhead * (this.avgBatchMs || 50)));
      return Promise.reject(
        new ServerError('overloaded', `queue full (${this.depth} queued, limit ${this.o.maxQueue}); retry in about ${retryAfterMs} ms`, {
          retryAfterMs,
        }),
      );
    }
    const client = opts.client ?? '';
    const held = this.perClient.get(client) ?? 0;
    const perClient = this.o.maxQueuePerClient ?? this.o.maxQueue;
    if (held + units.length > perClient) {
      const retryAfterMs = Math.max(50, Math.round(Math.ceil(held / this.o.maxBatchSize) * (this.avgBatchMs || 50)));
      return Promise.reject(
        new ServerError(
          'overloaded',
          `this client already has ${held} inputs queued for this model (limit ${perClient} per client); retry in about ${retryAfterMs} ms`,
          { retryAfterMs },
        ),
      );
    }
    const priority = opts.priority ?? 'normal';
    return new Promise<R[]>((resolve, reject) => {
      const req: Request<R> = { results: new Array<R>(units.length), remaining: units.length, settled: false, resolve, reject };
      const now = this.now();
      let v = Math.max(this.vnow, this.vnext.get(client) ?? 0);
      const items = units.map((unit, index) => {
        const tokens = this.o.tokens(unit);
        const it = { unit, index, key, tokens, enqueuedAt: now, req, client, vstart: v };
        v += Math.max(1, tokens);
        return it;
      });
      this.vnext.set(client, v);
      this.perClient.set(client, held + items.length);
      this.insert(this.queues[priority], items);
      this.emitDepth();
      if (opts.signal) {
        const onAbort = () => {
          for (const p of PRIORITIES) this.queues[p] = this.queues[p].filter((it) => it.req !== req || (this.dequeued(it), false));
          this.emitDepth();
          this.fail(req, new ServerError('cancelled', 'request cancelled by the client'));
        };
        opts.signal.addEventListener('abort', onAbort, { once: true });
        const cleanup = () => opts.signal?.removeEventListener('abort', onAbort);
        const { resolve: res, reject: rej } = req;
        req.resolve = (r) => {
          cleanup();
          res(r);
        };
        req.reject = (e) => {
          cleanup();
          rej(e);
        };
      }
      this.pump();
    });
  }

  /** Inserts `items` (in virtual order already) into `queue`, keeping it sorted by virtual start, stable. */
  private insert(queue: Array<Item<U, R>>, items: Array<Item<U, R>>): void {
    // The common case: nothing queued starts later than these (one client, or arrivals in order).
    if (queue.length === 0 || queue[queue.length - 1]!.vstart <= items[0]!.vstart) {
      for (const it of items) queue.push(it);
      return;
    }
    const merged: Array<Item<U, R>> = [];
    let i = 0;
    for (const it of items) {
      while (i < queue.length && queue[i]!.vstart <= it.vstart) merged.push(queue[i++]!);
      merged.push(it);
    }
    while (i < queue.length) merged.push(queue[i++]!);
    queue.splice(0, queue.length, ...merged);
  }

  /** Bookkeeping when a unit leaves the queue (dispatched or dropped). */
  private dequeued(it: Item<U, R>): void {
    const n = (this.perClient.get(it.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(it.client, n);
    else {
      this.perClient.delete(it.client);
      // A client with nothing queued starts afresh from the queue's virtual time next time.
      this.vnext.delete(it.client);
    }
  }

  private emitDepth(): void {
    this.o.onDepth?.({ high: this.queues.high.length, normal: this.queues.normal.length, low: this.queues.low.length });
  }

  private fail(req: Request<R>, e: unknown): void {
    if (req.settled) return;
    req.settled = true;
    req.reject(e);
  }

  /** The head item: oldest of the highest non-empty priority. */
  private head(): Item<U, R> | undefined {
    for (const p of PRIORITIES) if (this.queues[p].length > 0) return this.queues[p][0];
    return undefined;
  }

  private countKey(key: string): number {
    let n = 0;
    for (const p of PRIORITIES) for (const it of this.queues[p]) if (it.key === key) n++;
    return n;
  }

  private pump(): void {
    const max = this.o.maxConcurrentBatches ?? 1;
    while (this.running < max) {
      const head = this.head();
      if (!head) return;
      if (this.running > 0 && this.countKey(head.key) < this.o.maxBatchSize) {
        const waited = this.now() - head.enqueuedAt;
        if (waited < this.o.maxWaitMs) {
          if (!this.timer) {
            this.timer = setTimeout(() => {
              this.timer = undefined;
              this.pump();
            }, this.o.maxWaitMs - waited);
          }
          return;
        }
      }
      this.dispatch(this.take(head.key));
    }
  }

  /** Removes and returns up to a batch of items with `key`, in priority then arrival order. */
  private take(key: string): Array<Item<U, R>> {
    const batch: Array<Item<U, R>> = [];
    let tokens = 0;
    for (const p of PRIORITIES) {
      const keep: Array<Item<U, R>> = [];
      for (const it of this.queues[p]) {
        const fits = batch.length < this.o.maxBatchSize && (batch.length === 0 || tokens + it.tokens <= this.o.maxBatchTokens);
        if (it.key === key && fits) {
          batch.push(it);
          tokens += it.tokens;
          this.dequeued(it);
          this.vnow = Math.max(this.vnow, it.vstart);
        } else keep.push(it);
      }
      this.queues[p] = keep;
    }
    this.emitDepth();
    return batch;
  }

  private dispatch(batch: Array<Item<U, R>>): void {
    this.running++;
    const started = this.now();
    const key = batch[0]!.key;
    this.o.onBatch?.({
      key,
      size: batch.length,
      tokens: batch.reduce((a, b) => a + b.tokens, 0),
      waitsMs: batch.map((b) => started - b.enqueuedAt),
    });
    void this.execute(key, batch).finally(() => {
      const ms = this.now() - started;
      this.avgBatchMs = this.avgBatchMs === 0 ? ms : 0.8 * this.avgBatchMs + 0.2 * ms;
      this.running--;
      this.pump();
    });
  }

  /**
   * Runs a batch and settles its requests. If a batch mixing several requests fails, each
   * request's units are retried on their own, so one bad input fails only its own request.
   */
  private async execute(key: string, batch: Array<Item<U, R>>): Promise<void> {
    try {
      this.deliver(
        batch,
        await this.o.run(
          key,
          batch.map((b) => b.unit),
        ),
      );
    } catch (e) {
      const groups = new Map<Request<R>, Array<Item<U, R>>>();
      for (const it of batch) groups.set(it.req, [...(groups.get(it.req) ?? []), it]);
      if (groups.size === 1) {
        this.failAll(batch, e);
        return;
      }
      for (const items of groups.values()) {
        try {
          this.deliver(
            items,
            await this.o.run(
              key,
              items.map((b) => b.unit),
            ),
          );
        } catch (e2) {
          this.failAll(items, e2);
        }
      }
    }
  }

  private deliver(items: Array<Item<U, R>>, results: R[]): void {
    if (results.length !== items.length)
      throw new ServerError('internal', `batch returned ${results.length} results for ${items.length} inputs`);
    items.forEach((it, i) => {
      if (it.req.settled) return;
      it.req.results[it.index] = results[i]!;
      if (--it.req.remaining === 0) {
        it.req.settled = true;
        it.req.resolve(it.req.results);
      }
    });
  }

  /** Fails these items' requests and drops their other queued units (they would fail alike). */
  private failAll(items: Array<Item<U, R>>, e: unknown): void {
    const failed = new Set(items.map((b) => b.req));
    for (const r of failed) this.fail(r, e);
    for (const p of PRIORITIES) this.queues[p] = this.queues[p].filter((it) => !failed.has(it.req) || (this.dequeued(it), false));
    this.emitDepth();
  }
}
