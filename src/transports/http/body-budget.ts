/**
 * @module transports/http/body-budget
 * One budget for request bodies in flight across all clients (--body-budget). A request takes
 * its share before any of its body is read (its Content-Length, or the largest allowed body when
 * it sends none) and gives it back when its response is done, so held-open uploads cannot grow
 * the process past the budget, and what they held returns the moment their connections end.
 */

export class BodyBudget {
  private used = 0;

  constructor(readonly total: number) {}

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes`; returns the release function, or undefined when they do not fit. */
  take(bytes: number): (() => void) | undefined {
    if (bytes <= 0) return () => undefined;
    if (this.used + bytes > this.total) return undefined;
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    };
  }
}
