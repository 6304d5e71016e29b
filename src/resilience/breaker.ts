/**
 * @module resilience/breaker
 * A circuit breaker per model. After repeated model faults (inference errors, load failures,
 * internal errors) the model's breaker opens: calls fail fast with a retryable
 * `model_unavailable` error and a retry hint instead of piling onto a broken model. After the
 * cool-down one probe call is let through (half-open); a success closes the breaker again.
 *
 * Outcomes come in three kinds, not two. A call the caller ended or spoiled (cancelled, invalid
 * or oversized input, a deadline, overload) says nothing about the model: it neither opens nor
 * closes the breaker and does not count in the failure rate. opossum (used before) has no such
 * outcome: an error its filter ignores counts as a success, so a cancelled probe closed the
 * breaker and ignored errors diluted the rate, which is why this state machine is our own.
 */
import { ServerError, toServerError, type ErrorCode } from '../errors.js';

/**
 * The failures that say something about the model's health: it failed to load or to run, or the
 * server failed around it. An allow-list, so a new error code does not start counting by default.
 */
const MODEL_FAULTS: ReadonlySet<ErrorCode> = new Set(['model_load_failed', 'inference_failed', 'internal']);

/** Breaker settings. */
export interface BreakerOptions {
  /** Failure percentage over the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** Counted calls in the window before the breaker may open. Default 5. */
  volumeThreshold?: number;
  /** Cool-down before a half-open probe (ms). Default 30 s. */
  resetTimeoutMs?: number;
  /** Rolling statistics window (ms). Default 60 s. */
  rollingWindowMs?: number;
}

/** Breaker state as exported: 0 closed, 1 half-open, 2 open. */
export type BreakerState = 'closed' | 'half_open' | 'open';

/** What a finished call says about the model. */
type Outcome = 'ok' | 'fault' | 'neutral';

function outcomeOf(e: unknown): Outcome {
  return MODEL_FAULTS.has(toServerError(e).code) ? 'fault' : 'neutral';
}

/**
 * Counted outcomes over the rolling window, in ten buckets of a tenth of it each (as opossum
 * counts): recording a call and reading the totals cost the same however many calls the window
 * holds, where a list of calls cost every call a pass over a minute of traffic.
 */
class RollingCounts {
  private static readonly BUCKETS = 10;
  private readonly calls = new Array<number>(RollingCounts.BUCKETS).fill(0);
  private readonly faultsIn = new Array<number>(RollingCounts.BUCKETS).fill(0);
  private readonly bucketMs: number;
  private head = 0;
  private headStart = 0;
  total = 0;
  faults = 0;

  constructor(windowMs: number) {
    this.bucketMs = Math.max(1, windowMs / RollingCounts.BUCKETS);
  }

  add(now: number, fault: boolean): void {
    this.advance(now);
    this.calls[this.head]!++;
    this.total++;
    if (fault) {
      this.faultsIn[this.head]!++;
      this.faults++;
    }
  }

  clear(): void {
    this.calls.fill(0);
    this.faultsIn.fill(0);
    this.total = 0;
    this.faults = 0;
  }

  /** Moves the head bucket to `now`, dropping the buckets that fell out of the window. */
  private advance(now: number): void {
    const steps = Math.floor((now - this.headStart) / this.bucketMs);
    if (steps <= 0) return;
    for (let i = 0; i < Math.min(steps, RollingCounts.BUCKETS); i++) {
      this.head = (this.head + 1) % RollingCounts.BUCKETS;
      this.total -= this.calls[this.head]!;
      this.faults -= this.faultsIn[this.head]!;
      this.calls[this.head] = 0;
      this.faultsIn[this.head] = 0;
    }
    this.headStart = steps >= RollingCounts.BUCKETS ? now : this.headStart + steps * this.bucketMs;
  }
}

/** One model's breaker. */
class Breaker {
  private readonly window: RollingCounts;
  private openedAt = 0;
  private state: 'closed' | 'open' = 'closed';
  private probing = false;

  constructor(private readonly o: Required<BreakerOptions>) {
    this.window = new RollingCounts(o.rollingWindowMs);
  }

  /** closed, open (cooling down), or half_open (cooled down: the next call is a probe). */
  current(now = Date.now()): BreakerState {
    if (this.state === 'closed') return 'closed';
    return now - this.openedAt >= this.o.resetTimeoutMs ? 'half_open' : 'open';
  }

  /** Milliseconds until a probe may run. */
  retryAfter(now = Date.now()): number {
    return Math.max(100, this.openedAt + this.o.resetTimeoutMs - now);
  }

  /** Whether a call may start now; a call in half-open state becomes the probe. */
  admit(): { probe: boolean } | undefined {
    const s = this.current();
    if (s === 'closed') return { probe: false };
    if (s === 'open' || this.probing) return undefined;
    this.probing = true;
    return { probe: true };
  }

  settle(probe: boolean, outcome: Outcome): void {
    const now = Date.now();
    if (probe) {
      this.probing = false;
      if (outcome === 'ok') {
        this.state = 'closed';
        this.window.clear();
      } else if (outcome === 'fault') this.open(now);
      // neutral: still half-open; the next call probes again.
      return;
    }
    if (outcome === 'neutral' || this.state !== 'closed') return;
    this.window.add(now, outcome === 'fault');
    const { total, faults } = this.window;
    if (total >= this.o.volumeThreshold && (faults * 100) / total >= this.o.errorThresholdPercentage) this.open(now);
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.window.clear();
  }
}

/** One breaker per model, created on first use. */
export class Breakers {
  private readonly breakers = new Map<string, Breaker>();
  private readonly o: Required<BreakerOptions>;

  constructor(o: BreakerOptions = {}) {
    this.o = {
      errorThresholdPercentage: o.errorThresholdPercentage ?? 50,
      volumeThreshold: o.volumeThreshold ?? 5,
      resetTimeoutMs: o.resetTimeoutMs ?? 30_000,
      rollingWindowMs: o.rollingWindowMs ?? 60_000,
    };
  }

  private get(model: string): Breaker {
    let b = this.breakers.get(model);
    if (!b) this.breakers.set(model, (b = new Breaker(this.o)));
    return b;
  }

  /** Runs `fn` through the model's breaker. */
  async run<T>(model: string, fn: () => Promise<T>): Promise<T> {
    const b = this.get(model);
    const admitted = b.admit();
    if (!admitted) {
      const retryAfterMs = b.retryAfter();
      throw new ServerError(
        'model_unavailable',
        `model "${model}" is failing and temporarily unavailable; retry in about ${Math.ceil(retryAfterMs / 1000)} s`,
        { retryAfterMs },
      );
    }
    try {
      const r = await fn();
      b.settle(admitted.probe, 'ok');
      return r;
    } catch (e) {
      b.settle(admitted.probe, outcomeOf(e));
      throw e;
    }
  }

  /** A model's breaker state (closed when it has none yet). */
  state(model: string): BreakerState {
    return this.breakers.get(model)?.current() ?? 'closed';
  }

  /** Models with a breaker, and their states. */
  states(): Array<[string, BreakerState]> {
    return [...this.breakers.keys()].map((m) => [m, this.state(m)]);
  }

  /** Nothing runs in the background; kept so the app's shutdown reads the same for every part. */
  shutdown(): void {}
}
