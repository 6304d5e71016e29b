/**
 * resumableFetch with an injected fetch and fake timers: a stalled connection is dropped after
 * the stall time and resumed with a Range request; a server that ignores Range is handled by
 * skipping the bytes already saved; the retries are bounded and leave the partial file for the
 * next run; requests with their own Range and other hosts pass through; the token goes to the
 * endpoint only.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resumableFetch } from '../../src/hub/download.js';

const DATA = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
const URL_ = 'http://hub.test/org/m/resolve/main/onnx/model.onnx';

type Plan = { stallAfter?: number; failAfter?: number; ignoreRange?: boolean };

/** A fake hub: each call takes the next plan (what goes wrong on that connection). */
function fakeHub(plans: Plan[]) {
  const calls: Array<{ url: string; range: string | null; auth: string | null }> = [];
  const f = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const h = new Headers(init.headers);
    calls.push({ url: String(input), range: h.get('range'), auth: h.get('authorization') });
    const plan = plans.shift() ?? {};
    const m = /^bytes=(\d+)-$/.exec(h.get('range') ?? '');
    const start = m && !plan.ignoreRange ? Number(m[1]) : 0;
    const part = DATA.subarray(start);
    const signal = init.signal;
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent) {
          sent = true;
          return c.enqueue(new Uint8Array(part.subarray(0, plan.stallAfter ?? plan.failAfter ?? part.length)));
        }
        // After its first chunk, a connection fails, stalls until aborted, or ends.
        if (plan.failAfter !== undefined) c.error(new Error('socket hang up'));
        else if (plan.stallAfter !== undefined)
          return new Promise<void>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
        else c.close();
      },
    });
    const headers: Record<string, string> = { 'content-length': String(part.length) };
    if (start > 0) headers['content-range'] = `bytes ${start}-${DATA.length - 1}/${DATA.length}`;
    return new Response(body, { status: start > 0 ? 206 : 200, headers });
  }) as typeof fetch;
  return { f, calls };
}

afterEach(() => vi.useRealTimers());

/** Advances fake time in small steps, letting real file I/O run between them, until `p` settles. */
async function drive<T>(p: Promise<T>, maxMs = 20_000): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  for (let t = 0; t < maxMs && !done; t += 50) {
    await vi.advanceTimersByTimeAsync(50);
    await new Promise((r) => setImmediate(r));
  }
  return p;
}

function setup(plans: Plan[], retries = 5) {
  const dir = mkdtempSync(join(tmpdir(), 'hfms-dl-'));
  const target = join(dir, 'org/m/onnx/model.onnx');
  const hub = fakeHub(plans);
  const fetchFn = resumableFetch({
    endpoint: 'http://hub.test',
    token: 'tok',
    target: (u) => (u === URL_ ? target : undefined),
    retries,
    stallMs: 1000,
    fetch: hub.f,
  });
  return { target, hub, fetchFn };
}

describe('resumableFetch', () => {
  it('drops a stalled connection after the stall time and resumes from the saved bytes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { target, hub, fetchFn } = setup([{ stallAfter: 4000 }]);
    const res = await fetchFn(URL_);
    const body = res.arrayBuffer();
    await vi.advanceTimersByTimeAsync(900);
    expect(hub.calls).toHaveLength(1); // not before the stall time
    expect(Buffer.from(await drive(body)).equals(DATA)).toBe(true);
    expect(hub.calls.map((c) => c.range)).toEqual([null, 'bytes=4000-']);
    expect(readFileSync(target).equals(DATA)).toBe(true);
    expect(existsSync(`${target}.incomplete`)).toBe(false);
  });

  it('skips what it has when the server answers a resumption from the start', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { target, fetchFn } = setup([{ failAfter: 3000 }, { ignoreRange: true }]);
    const res = await fetchFn(URL_);
    expect(Buffer.from(await drive(res.arrayBuffer())).equals(DATA)).toBe(true);
    expect(readFileSync(target).equals(DATA)).toBe(true);
  });

  it('gives up after its retries and keeps the partial file for the next run', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { target, hub, fetchFn } = setup([{ failAfter: 1000 }, { failAfter: 1000 }, { failAfter: 1000 }], 2);
    const res = await fetchFn(URL_);
    const body = res.arrayBuffer().then(
      () => 'ok',
      (e: Error) => e.message,
    );
    expect(await drive(body)).toMatch(/failed after 2 resumptions: socket hang up/);
    expect(hub.calls.map((c) => c.range)).toEqual([null, 'bytes=1000-', 'bytes=2000-']);
    expect(readFileSync(`${target}.incomplete`).equals(DATA.subarray(0, 3000))).toBe(true);
    expect(existsSync(target)).toBe(false);
  });

  it('passes ranged requests and other hosts through; the token goes to the endpoint only', async () => {
    const { hub, fetchFn } = setup([]);
    await (await fetchFn(URL_, { headers: { range: 'bytes=0-0' } })).arrayBuffer();
    await (await fetchFn('http://elsewhere.test/org/m/resolve/main/config.json')).arrayBuffer();
    expect(hub.calls.map((c) => [c.range, c.auth])).toEqual([
      ['bytes=0-0', 'Bearer tok'],
      [null, null],
    ]);
  });
});
