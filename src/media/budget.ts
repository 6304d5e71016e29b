/**
 * @module media/budget
 * A byte budget for decoded media in flight. Decoding runs before the request queue (the queue
 * holds decoded inputs), so without a bound many concurrent calls on small files that decode to
 * large images or long recordings could take any amount of memory before --max-queue applies.
 * Each call reserves its estimated decoded size before decoding and returns it when the call
 * ends; calls that do not fit wait their turn (their deadline still applies). The turn is fair
 * across clients: the next waiter served is the earliest one of the client holding the fewest
 * bytes now, so one client's flood of huge images cannot make everyone else's small ones wait
 * for all of it. A single input larger than the whole budget runs alone.
 */
interface Waiter {
  n: number;
  client: string;
  grant(release: () => void): void;
}

/** A weighted semaphore over bytes, fair across clients. */
export class MediaBudget {
  private used = 0;
  private readonly waiters: Waiter[] = [];
  /** Bytes each client holds now. */
  private readonly held = new Map<string, number>();

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
  acquire(bytes: number, signal?: AbortSignal, client = ''): Promise<() => void> {
    const n = Math.min(this.capacity, Math.max(1, Math.ceil(bytes)));
    if (this.waiters.length === 0 && this.used + n <= this.capacity) {
      this.take(client, n);
      return Promise.resolve(this.releaser(client, n));
    }
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        n,
        client,
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
      this.drain();
    });
  }

  private take(client: string, n: number): void {
    this.used += n;
    this.held.set(client, (this.held.get(client) ?? 0) + n);
  }

  private releaser(client: string, n: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used -= n;
      const left = (this.held.get(client) ?? n) - n;
      if (left > 0) this.held.set(client, left);
      else this.held.delete(client);
      this.drain();
    };
  }

  /** The waiter whose turn it is: the earliest of the client holding the least. */
  private next(): number {
    let best = 0;
    for (let i = 1; i < this.waiters.length; i++)
      if ((this.held.get(this.waiters[i]!.client) ?? 0) < (this.held.get(this.waiters[best]!.client) ?? 0)) best = i;
    return best;
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const i = this.next();
      const w = this.waiters[i]!;
      // The one whose turn it is waits for room; nobody overtakes it, so large inputs are not starved.
      if (this.used + w.n > this.capacity) return;
      this.waiters.splice(i, 1);
      this.take(w.client, w.n);
      w.grant(this.releaser(w.client, w.n));
    }
  }
}
