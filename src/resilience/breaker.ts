/**
 * @module resilience/breaker
 * A circuit breaker per model (opossum). After repeated backend failures (inference errors, load
 * failures, internal errors; never anything the caller caused, cancellation or overload) the model's breaker
 * opens: calls fail fast with a retryable `model_unavailable` error and a retry hint instead of
 * piling onto a broken model. After the cool-down one probe call is let through (half-open); a
 * success closes the breaker again.
 */
import CircuitBreaker from 'opossum';
import { ServerError, toServerError, type ErrorCode } from '../errors.js';

/**
 * The failures that say something about the model's health: it failed to load or to run, or the
 * server failed around it. Everything else (bad or oversized input, unknown models, media the
 * caller sent, cancellation, overload, deadlines, scopes, missing files) is the caller's or the
 * moment's, and never opens a breaker for everyone. An allow-list, so a new error code does not
 * start counting by default.
 */
const MODEL_FAULTS: ReadonlySet<ErrorCode> = new Set(['model_load_failed', 'inference_failed', 'internal']);

/** Breaker settings. */
export interface BreakerOptions {
  /** Failure percentage over the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls in the window before the breaker may open. Default 5. */
  volumeThreshold?: number;
  /** Cool-down before a half-open probe (ms). Default 30 s. */
  resetTimeoutMs?: number;
  /** Rolling statistics window (ms). Default 60 s. */
  rollingWindowMs?: number;
}

/** Breaker state as exported: 0 closed, 1 half-open, 2 open. */
export type BreakerState = 'closed' | 'half_open' | 'open';

type Action = (fn: () => Promise<unknown>) => Promise<unknown>;

/** One breaker per model, created on first use. */
export class Breakers {
  private readonly breakers = new Map<string, { cb: CircuitBreaker<Parameters<Action>, unknown>; openedAt: number }>();

  constructor(private readonly o: BreakerOptions = {}) {}

  private get(model: string) {
    let b = this.breakers.get(model);
    if (!b) {
      const cb = new CircuitBreaker<Parameters<Action>, unknown>((fn: () => Promise<unknown>) => fn(), {
        timeout: false,
        errorThresholdPercentage: this.o.errorThresholdPercentage ?? 50,
        volumeThreshold: this.o.volumeThreshold ?? 5,
        resetTimeout: this.o.resetTimeoutMs ?? 30_000,
        rollingCountTimeout: this.o.rollingWindowMs ?? 60_000,
        errorFilter: (e: unknown) => !MODEL_FAULTS.has(toServerError(e).code),
      });
      const entry = { cb, openedAt: 0 };
      cb.on('open', () => (entry.openedAt = Date.now()));
      b = entry;
      this.breakers.set(model, b);
    }
    return b;
  }

  /** Runs `fn` through the model's breaker. */
  async run<T>(model: string, fn: () => Promise<T>): Promise<T> {
    const b = this.get(model);
    try {
      return (await b.cb.fire(fn)) as T;
    } catch (e) {
      if ((e as { code?: string }).code === 'EOPENBREAKER') {
        const reset = this.o.resetTimeoutMs ?? 30_000;
        const retryAfterMs = Math.max(100, b.openedAt + reset - Date.now());
        throw new ServerError(
          'model_unavailable',
          `model "${model}" is failing and temporarily unavailable; retry in about ${Math.ceil(retryAfterMs / 1000)} s`,
          {
            retryAfterMs,
          },
        );
      }
      throw e;
    }
  }

  /** A model's breaker state (closed when it has none yet). */
  state(model: string): BreakerState {
    const b = this.breakers.get(model);
    if (!b) return 'closed';
    return b.cb.opened ? 'open' : b.cb.halfOpen ? 'half_open' : 'closed';
  }

  /** Models with a breaker, and their states. */
  states(): Array<[string, BreakerState]> {
    return [...this.breakers.keys()].map((m) => [m, this.state(m)]);
  }

  /** Stops the breakers' timers. */
  shutdown(): void {
    for (const b of this.breakers.values()) b.cb.shutdown();
  }
}
