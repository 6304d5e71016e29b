/**
 * @module bench/router
 * What a `model: "auto"` decision costs: microseconds per choose+observe with 2, 4 and 8 arms
 * under the learned policy, per choose with a pinned split, and per choose with a route key
 * (one hash per arm). Run: `npm run bench -- router`.
 */
import { parseRoutes } from '../src/config/config.js';
import { Router } from '../src/runtime/router.js';

const N = 200_000;

function perCall(fn: (i: number) => void): number {
  for (let i = 0; i < 10_000; i++) fn(i); // warm
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / N;
}

export async function benchRouter(): Promise<Record<string, number>> {
  const r: Record<string, number> = {};
  for (const k of [2, 4, 8]) {
    const router = new Router(new Map(), Math.random);
    const candidates = Array.from({ length: k }, (_, i) => ({ model: `m${i}`, quality: 0 }));
    r[`learned_${k}_arms_us`] = perCall(() => {
      const { model } = router.choose('embed', candidates);
      router.observe('embed', model, 'cpu', 5 + Math.random(), 1);
    });
  }
  const split = new Router(parseRoutes(['embed=a:90,b:10']), Math.random);
  const ab = [
    { model: 'a', quality: 0 },
    { model: 'b', quality: 0 },
  ];
  r.split_us = perCall(() => split.choose('embed', ab));
  const sticky = new Router(new Map(), Math.random);
  r.route_key_2_arms_us = perCall((i) => sticky.choose('embed', ab, { key: `collection-${i % 1000}` }));
  return r;
}
