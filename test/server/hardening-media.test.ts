/**
 * Regressions for what an outside attack found in media handling, through a real MCP client:
 * a FIFO in an allowed folder, audio whose header or compression asks for huge decodes, images
 * that decode large from small files, echoed input, path answers that reveal what exists, file:
 * URIs, and IPv6 addresses that embed private IPv4 ones.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaBudget } from '../../src/media/budget.js';
import { MediaDecoders } from '../../src/media/decode-pool.js';
import { probeAudio } from '../../src/media/audio.js';
import { makeConfig } from '../../src/config/config.js';
import { errorOf, startServer, type Harness } from '../helpers/server.js';
import { flacBomb, png } from '../helpers/media.js';

let h: Harness;
let root: string;
const b64 = (b: Buffer) => b.toString('base64');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hfms-hard-'));
  execFileSync('mkfifo', [join(root, 'pipe.png')]);
  writeFileSync(join(root, 'a b.png'), await png(64, 48));
  h = await startServer({ media: { allowDirs: [root], maxAudioSeconds: 120, memoryBytes: 40 * 2 ** 20 } });
}, 120_000);
afterAll(async () => h?.close());

describe('special files', () => {
  it('a FIFO inside an allowed folder is refused at once, however many calls name it, and others keep being served', async () => {
    const t0 = Date.now();
    const calls = await Promise.all([
      ...Array.from({ length: 8 }, () => h.call('ocr', { image: join(root, 'pipe.png') })),
      h.call('detect_speech', { audio: join(root, 'pipe.png') }),
    ]);
    for (const r of calls) expect(errorOf(r).code).toBe('path_not_allowed');
    expect(errorOf(calls[0]!).message).toMatch(/not a regular file/);
    expect(Date.now() - t0).toBeLessThan(15_000); // "at once" on a busy CI machine; the old code hung until the FIFO was written
    // The thread pool is free: a real file, base64 and a model load all still work.
    const ok = await h.call('detect', { image: join(root, 'a b.png'), mode: 'text' });
    expect(ok.isError, JSON.stringify(ok.content)).toBeFalsy();
    expect((await h.call('embed', { texts: ['still serving'] })).isError).toBeFalsy();
  });
});

describe('audio that asks for more than it is', () => {
  it('a header declaring an absurd sample rate is refused before decoding', async () => {
    const flac = Buffer.from(readFileSync('test/fixtures/media/tone.flac'));
    // STREAMINFO's 20-bit rate starts at byte 18: declare 655,350 Hz.
    const rate = 655_350;
    flac[18] = rate >> 12;
    flac[19] = (rate >> 4) & 0xff;
    flac[20] = ((rate & 0x0f) << 4) | (flac[20]! & 0x0f);
    const e = errorOf(await h.call('detect_speech', { audio_base64: b64(flac) }));
    expect(e.code).toBe('unsupported_media');
    expect(e.message).toMatch(/655350 Hz/);
  });

  it('a header declaring more than the duration limit is refused before decoding', async () => {
    const e = errorOf(
      await h.call('detect_speech', { audio_base64: b64(flacBomb({ rate: 16000, frames: 2, declaredSamples: 16000 * 600 })) }),
    );
    expect(e.code).toBe('media_too_large');
    expect(e.message).toMatch(/600\.0 s long/);
  });

  it('a stream longer than its header declares is refused while decoding', async () => {
    const e = errorOf(await h.call('detect_speech', { audio_base64: b64(flacBomb({ rate: 16000, frames: 40, declaredSamples: 16000 })) }));
    expect(e.code).toBe('invalid_media');
    expect(e.message).toMatch(/more than the 1\.0 s its header declares/);
  });

  it('a FLAC bomb (260 KB that decodes to 11 hours) stops at the limit with bounded memory and time', async () => {
    const bomb = flacBomb({ rate: 16000, frames: 20_000 }); // length unknown in its header
    const before = process.memoryUsage().rss;
    const t0 = Date.now();
    const e = errorOf(await h.call('detect_speech', { audio_base64: b64(bomb) }));
    expect(e.code).toBe('media_too_large');
    expect(Date.now() - t0).toBeLessThan(15_000); // bounded on a busy CI machine; the old code decoded all 11 hours first
    // The whole bomb is 2.6 GB of float32; the limit (120 s) is 7.7 MB at 16 kHz.
    expect(process.memoryUsage().rss - before).toBeLessThan(200e6);
  });
});

describe('media decoding threads', () => {
  it('a decode whose deadline passes is stopped at once (its thread terminated), and the next decode works', async () => {
    const pool = new MediaDecoders(1);
    try {
      const cfg = makeConfig({ media: { maxAudioSeconds: 3600 } }).media;
      const bomb = flacBomb({ rate: 16000, frames: 20_000 });
      const ac = new AbortController();
      const t0 = Date.now();
      const run = pool.audio(bomb, cfg, 'audio', probeAudio(bomb, cfg), ac.signal);
      setTimeout(() => ac.abort(new Error('deadline passed')), 20);
      await expect(run).rejects.toThrow('deadline passed');
      expect(Date.now() - t0).toBeLessThan(1000);
      const tone = readFileSync('test/fixtures/media/tone.flac');
      const ok = await pool.audio(tone, cfg, 'audio', probeAudio(tone, cfg));
      expect(ok.duration).toBeCloseTo(1.5, 2);
    } finally {
      await pool.close();
    }
  });
});

describe('images', () => {
  it('an extreme aspect ratio within the pixel limit is refused from the header', async () => {
    const e = errorOf(await h.call('ocr', { image_base64: b64(await png(20_000, 10)) }));
    expect(e.code).toBe('media_too_large');
    expect(e.message).toMatch(/longer than it is wide/);
  });

  it('decoded images in flight are bounded by the media budget; the rest wait their turn and all succeed', async () => {
    const img = b64(await png(1200, 1000)); // 9.6 MB reserved each; the budget is 40 MiB
    const budget = h.app.deps.mediaBudget;
    let peak = 0;
    let waited = 0;
    const probe = setInterval(() => {
      peak = Math.max(peak, budget.inUse);
      waited = Math.max(waited, budget.waiting);
    }, 1);
    const out = await Promise.all(Array.from({ length: 12 }, () => h.call('detect', { image_base64: img, mode: 'text' })));
    clearInterval(probe);
    for (const r of out) expect(r.isError, JSON.stringify(r.content).slice(0, 200)).toBeFalsy();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(budget.capacity);
    expect(waited).toBeGreaterThan(0);
    expect(budget.inUse).toBe(0);
  });

  it('the budget: FIFO order, clamps oversize requests, and a waiting call leaves on its deadline', async () => {
    const b = new MediaBudget(100);
    const r1 = await b.acquire(60);
    const order: string[] = [];
    const ac = new AbortController();
    const p2 = b.acquire(50).then((r) => (order.push('second'), r));
    const p3 = b.acquire(500, ac.signal); // clamped to 100: waits for everything
    const p4 = b.acquire(10).then((r) => (order.push('fourth'), r));
    ac.abort(new Error('deadline'));
    await expect(p3).rejects.toThrow('deadline');
    r1();
    (await p2)();
    (await p4)();
    expect(order).toEqual(['second', 'fourth']);
    expect(b.inUse).toBe(0);
  });
});

describe('paths and echoed input', () => {
  it('outside the allowed folders a missing file and a present one get the same answer; inside, missing says not found', async () => {
    const missing = errorOf(await h.call('ocr', { image: '/etc/no-such-file.png' }));
    const outside = errorOf(await h.call('ocr', { image: '/etc/hostname' }));
    expect(missing.code).toBe('path_not_allowed');
    expect(outside.code).toBe('path_not_allowed');
    expect(missing.message.replace('/etc/no-such-file.png', 'P')).toBe(outside.message.replace('/etc/hostname', 'P'));
    const inside = errorOf(await h.call('ocr', { image: join(root, 'nope.png') }));
    expect(inside.code).toBe('file_not_found');
    expect(inside.message).toMatch(/was not found/);
    // A missing file in a hidden folder inside is still the one answer.
    expect(errorOf(await h.call('ocr', { image: join(root, '.secret', 'nope.png') })).code).toBe('path_not_allowed');
  });

  it('a base64 payload sent as a path is not echoed back whole', async () => {
    const junk = b64(Buffer.alloc(30_000, 7));
    const e = errorOf(await h.call('ocr', { image: junk }));
    expect(e.code).toBe('path_not_allowed');
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toMatch(/40000 characters/);
    const m = errorOf(await h.call('embed', { texts: ['x'], model: 'y'.repeat(5000) }));
    expect(m.code).toBe('unknown_model');
    expect(m.message.length).toBeLessThan(1000);
  });

  it('file: URIs are percent-decoded', async () => {
    const r = await h.call('detect', { image: `file://${encodeURI(join(root, 'a b.png'))}`, mode: 'text' });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  });
});

describe('SSRF: IPv6 forms that embed IPv4', () => {
  let urls: Harness;
  beforeAll(async () => {
    urls = await startServer({ media: { allowUrls: true } });
  });
  afterAll(async () => urls?.close());

  it('are judged by the embedded address and refused before any connection', async () => {
    for (const host of [
      '[::127.0.0.1]',
      '[::ffff:10.0.0.1]',
      '[64:ff9b::192.168.1.1]',
      '[2002:7f00:1::1]',
      '[2001:0:808:808::80ff:fefe]',
    ]) {
      const e = errorOf(await urls.call('ocr', { image: `http://${host}/a.png` }));
      expect(e.code, host).toBe('url_not_allowed');
    }
  });
});
