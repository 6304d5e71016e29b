/**
 * The decoded-media budget's turn order: fair across clients, and a large input is not starved.
 */
import { describe, expect, it } from 'vitest';
import { MediaBudget } from '../../src/media/budget.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('MediaBudget', () => {
  it('a client holding nothing goes before the waiting flood of a client holding much', async () => {
    const b = new MediaBudget(100);
    const held = await b.acquire(60, undefined, 'flood');
    const granted: string[] = [];
    const flood = [1, 2, 3].map((i) => b.acquire(60, undefined, 'flood').then((r) => (granted.push(`flood${i}`), r)));
    const small = b.acquire(10, undefined, 'polite').then((r) => (granted.push('polite'), r));
    await tick();
    expect(granted).toEqual(['polite']);
    (await small)();
    held();
    await tick();
    expect(granted).toEqual(['polite', 'flood1']);
    (await flood[0]!)();
    await tick();
    (await flood[1]!)();
    await tick();
    (await flood[2]!)();
    expect(b.inUse).toBe(0);
  });

  it('the waiter whose turn it is is not overtaken by smaller ones of the same standing', async () => {
    const b = new MediaBudget(100);
    const a = await b.acquire(50, undefined, 'a');
    const order: string[] = [];
    const big = b.acquire(90, undefined, 'b').then((r) => (order.push('big'), r));
    const tiny = b.acquire(10, undefined, 'c').then((r) => (order.push('tiny'), r));
    await tick();
    // b and c hold nothing: b came first and waits for room; c does not jump ahead of it.
    expect(order).toEqual([]);
    a();
    (await big)();
    (await tiny)();
    expect(order).toEqual(['big', 'tiny']);
  });
});
