/**
 * The per-model circuit breaker: only model faults count; what the caller caused (cancelled,
 * invalid or oversized input) neither opens nor closes it, nor dilutes its failure rate. Fake
 * timers stand in for the cool-down.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerError, type ErrorCode } from '../../src/errors.js';
import { Breakers } from '../../src/resilience/breaker.js';

afterEach(() => vi.useRealTimers());

const fail = (code: ErrorCode) => () => Promise.reject(new ServerError(code, code));
const ok = () => Promise.resolve('ok');

async function settle(b: Breakers, fn: () => Promise<unknown>) {
  await b.run('m', fn).catch(() => undefined);
}

describe('Breakers', () => {
  it('caller-side errors do not dilute the failure rate', async () => {
    const b = new Breakers({ volumeThreshold: 5, errorThresholdPercentage: 50 });
    for (let i = 0; i < 3; i++) await settle(b, fail('inference_failed'));
    for (let i = 0; i < 20; i++) await settle(b, fail(i % 2 ? 'invalid_input' : 'cancelled'));
    for (let i = 0; i < 20; i++) await settle(b, fail('input_too_large'));
    expect(b.state('m')).toBe('closed');
    for (let i = 0; i < 2; i++) await settle(b, fail('model_load_failed'));
    expect(b.state('m')).toBe('open');
    await expect(b.run('m', ok)).rejects.toMatchObject({ code: 'model_unavailable' });
  });

  it('counts over a rolling window: faults that have aged out no longer count, fresh ones do', async () => {
    vi.useFakeTimers();
    const b = new Breakers({ volumeThreshold: 5, errorThresholdPercentage: 50, rollingWindowMs: 60_000 });
    for (let i = 0; i < 4; i++) await settle(b, fail('inference_failed'));
    // Past the window, the four old faults are gone: four new ones do not reach the volume threshold with them.
    vi.advanceTimersByTime(61_000);
    for (let i = 0; i < 4; i++) await settle(b, fail('inference_failed'));
    expect(b.state('m')).toBe('closed');
    // Within the window they add up: a fifth fault opens it.
    vi.advanceTimersByTime(20_000);
    await settle(b, fail('inference_failed'));
    expect(b.state('m')).toBe('open');
    // Many successes in one window cost the same to count as few, and keep a healthy model closed.
    const c = new Breakers({ volumeThreshold: 5, errorThresholdPercentage: 50 });
    for (let i = 0; i < 50_000; i++) await settle(c, ok);
    for (let i = 0; i < 100; i++) await settle(c, fail('inference_failed'));
    expect(c.state('m')).toBe('closed');
  });

  it('a cancelled probe leaves the breaker half-open; a faulty one reopens it; a good one closes it', async () => {
    vi.useFakeTimers();
    const b = new Breakers({ volumeThreshold: 2, resetTimeoutMs: 1000 });
    await settle(b, fail('inference_failed'));
    await settle(b, fail('inference_failed'));
    expect(b.state('m')).toBe('open');
    vi.advanceTimersByTime(1000);
    expect(b.state('m')).toBe('half_open');
    await settle(b, fail('cancelled'));
    expect(b.state('m')).toBe('half_open');
    await settle(b, fail('invalid_input'));
    expect(b.state('m')).toBe('half_open');
    await settle(b, fail('inference_failed'));
    expect(b.state('m')).toBe('open');
    await expect(b.run('m', ok)).rejects.toMatchObject({ code: 'model_unavailable', retryAfterMs: 1000 });
    vi.advanceTimersByTime(1000);
    expect(await b.run('m', ok)).toBe('ok');
    expect(b.state('m')).toBe('closed');
  });

  it('lets one probe through at a time while half-open', async () => {
    vi.useFakeTimers();
    const b = new Breakers({ volumeThreshold: 1, resetTimeoutMs: 500 });
    await settle(b, fail('internal'));
    vi.advanceTimersByTime(500);
    let finish!: (v: string) => void;
    const probe = b.run('m', () => new Promise<string>((r) => (finish = r)));
    await expect(b.run('m', ok)).rejects.toMatchObject({ code: 'model_unavailable' });
    finish('done');
    expect(await probe).toBe('done');
    expect(await b.run('m', ok)).toBe('ok');
  });
});
