/**
 * The router's policies on simulated arms with a seeded PRNG: Thompson sampling settles on the
 * faster model and moves when it slows down, a pinned split is honoured within sampling noise,
 * a route key keeps its model (and adding a model moves only the keys it wins), and quality tiers
 * hold unless the caller allows lower ones.
 */
import { describe, expect, it } from 'vitest';
import { parseRoutes } from '../../src/config/config.js';
import { Router } from '../../src/runtime/router.js';
import { mulberry32 } from '../../src/prng.js';

const arms = (...models: string[]) => models.map((model) => ({ model, quality: 0 }));

describe('router', () => {
  it('learns the faster model from latency per unit, and follows it when it slows down', () => {
    const rng = mulberry32(7);
    const router = new Router(new Map(), rng);
    const cost: Record<string, number> = { fast: 10, slow: 20 };
    const noisy = (m: string) => cost[m]! * (0.8 + 0.4 * rng());
    const run = (n: number) => {
      const picks: Record<string, number> = { fast: 0, slow: 0 };
      for (let i = 0; i < n; i++) {
        const { model } = router.choose('embed', arms('fast', 'slow'));
        picks[model]!++;
        router.observe('embed', model, 'cpu', noisy(model) * 4, 4);
      }
      return picks;
    };
    expect(run(300).fast).toBeGreaterThan(250);
    cost.fast = 60; // evicted and reloading, or its queue loaded by someone else
    const after = run(200);
    expect(after.slow).toBeGreaterThan(140);
    const view = router.view()[0]!;
    expect(view.tool).toBe('embed');
    expect(view.arms.find((a) => a.model === 'slow')!.mean_ms_per_unit).toBeGreaterThan(15);
  });

  it('honours a pinned split within sampling noise', () => {
    const router = new Router(parseRoutes(['embed=a:90,b:10']), mulberry32(3));
    let a = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (router.choose('embed', arms('a', 'b')).model === 'a') a++;
    // 4 standard deviations of a binomial(20000, 0.9) share is 0.0085.
    expect(Math.abs(a / n - 0.9)).toBeLessThan(0.0085);
    // Only arms that can serve the call are drawn from.
    expect(router.choose('embed', arms('b')).model).toBe('b');
  });

  it('a route key keeps its model; a new model takes only the keys it wins', () => {
    const router = new Router(new Map(), mulberry32(1));
    const keys = Array.from({ length: 600 }, (_, i) => `collection-${i}`);
    const before = keys.map((k) => router.choose('embed', arms('a', 'b'), { key: k }).model);
    expect(keys.map((k) => router.choose('embed', arms('a', 'b'), { key: k }).model)).toEqual(before);
    const share = before.filter((m) => m === 'a').length / keys.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    const after = keys.map((k) => router.choose('embed', arms('a', 'b', 'c'), { key: k }).model);
    for (let i = 0; i < keys.length; i++) if (after[i] !== 'c') expect(after[i]).toBe(before[i]);
    expect(after.filter((m) => m === 'c').length).toBeGreaterThan(120);
  });

  it('stays in the best quality tier unless the caller allows lower', () => {
    const router = new Router(new Map(), mulberry32(5));
    const tiers = [
      { model: 'good', quality: 2 },
      { model: 'cheap', quality: 1 },
    ];
    for (let i = 0; i < 200; i++) {
      const { model } = router.choose('generate', tiers);
      expect(model).toBe('good');
      router.observe('generate', model, 'cpu', 100, 1);
    }
    // Allowed lower, the faster cheap model is tried and then preferred.
    let cheap = 0;
    for (let i = 0; i < 100; i++) {
      const { model } = router.choose('generate', tiers, { allowLowerQuality: true });
      if (model === 'cheap') cheap++;
      router.observe('generate', model, 'cpu', model === 'cheap' ? 10 : 100, 1);
    }
    expect(cheap).toBeGreaterThan(85);
  });

  it('refuses malformed splits', () => {
    expect(() => parseRoutes(['embed=a'])).toThrow(/model:weight/);
    expect(() => parseRoutes(['embed=a:0'])).toThrow(/positive/);
  });
});

describe('router failures', () => {
  it('a model that fails through its own fault stops drawing traffic', () => {
    const router = new Router(new Map(), mulberry32(11));
    let broken = 0;
    for (let i = 0; i < 200; i++) {
      const { model } = router.choose('embed', arms('broken', 'fine'));
      if (model === 'broken') {
        broken++;
        router.fail('embed', 'broken');
      } else router.observe('embed', 'fine', 'cpu', 20, 1);
    }
    expect(broken).toBeLessThan(10);
  });

  it('a model unused for 30 s gets one call again, so a fixed model can come back', () => {
    let now = 0;
    const router = new Router(new Map(), mulberry32(13), () => now);
    const step = (fixed: boolean) => {
      const { model } = router.choose('embed', arms('flaky', 'steady'));
      if (model === 'flaky' && !fixed) router.fail('embed', 'flaky');
      else router.observe('embed', model, 'cpu', model === 'flaky' ? 5 : 20, 1);
      now += 100;
      return model;
    };
    for (let i = 0; i < 50; i++) step(false);
    const before = router.view()[0]!.arms.find((a) => a.model === 'flaky')!.choices;
    for (let i = 0; i < 50; i++) step(false); // 5 s more: still out
    expect(router.view()[0]!.arms.find((a) => a.model === 'flaky')!.choices).toBe(before);
    now += 30_000;
    // Retried once; it is fixed and faster now, so it wins the traffic back.
    const after = Array.from({ length: 100 }, () => step(true));
    expect(after.filter((m) => m === 'flaky').length).toBeGreaterThan(80);
  });
});
