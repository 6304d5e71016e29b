/**
 * @module media/budget
 * A byte budget for decoded media in flight. Decoding runs before the request queue (the queue
 * holds decoded inputs), so without a bound many concurrent calls on small files that decode to
 * large images or long recordings could take any amount of memory before --max-queue applies.
 * Each call reserves its estimated decoded size before decoding and returns it when the call
 * ends; calls that do not fit wait their turn in order (their deadline still applies). A single
 * input larger than the whole budget runs alone.
 */
interface Waiter {
  n: number;
  grant(release: () => void): void;
}

/** A FIFO weighted semaphore over bytes. */
export class MediaBudget {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly capacity: number) {}

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** Calls waiting for room. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Reserves `bytes` (clamped to the capacity); resolves with the release function. */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const n = Math.min(this.capacity, Math.max(1, Math.ceil(bytes)));
    if (this.waiters.length === 0 && this.used + n <= this.capacity) {
      this.used += n;
      return Promise.resolve(this.releaser(n));
    }
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        n,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        this.drain();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  private releaser(n: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used -= n;
      this.drain();
    };
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.used + this.waiters[0]!.n <= this.capacity) {
      const w = this.waiters.shift()!;
      this.used += w.n;
      w.grant(this.releaser(w.n));
    }
  }
}
