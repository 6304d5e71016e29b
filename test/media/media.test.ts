/**
 * The media layer on its own: the SSRF address classes, URL downloads under the limits (with
 * private addresses explicitly allowed, against a loopback server), the audio decoders and
 * resampling, and the DB geometry on a rotated rectangle.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/config/config.js';
import { decodeAudio, resample } from '../../src/media/audio.js';
import { fetchMedia, isPublicAddress } from '../../src/media/fetch.js';
import { decodeDataUri } from '../../src/media/source.js';
import { convexHull, minAreaRect } from '../../src/backends/onnx/geometry.js';
import { segmentSpeech } from '../../src/backends/onnx/silero-vad.js';
import { VAD_DEFAULTS } from '../../src/backends/onnx/tasks.js';

const media = (o: Partial<ReturnType<typeof makeConfig>['media']> = {}) => makeConfig({ media: o }).media;

describe('SSRF guard', () => {
  it('classifies addresses', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(isPublicAddress(a), a).toBe(true);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fc00::1',
      '::ffff:10.0.0.1',
      '224.0.0.1',
      'nonsense',
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });

  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') return res.end(Buffer.alloc(5000));
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/small' });
        return res.end();
      }
      if (req.url === '/missing') {
        res.writeHead(404);
        return res.end();
      }
      res.setHeader('content-type', 'image/png');
      res.end(Buffer.from('abc'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('downloads with private addresses allowed, following redirects, under the byte cap', async () => {
    const cfg = media({ allowUrls: true, allowPrivateUrls: true, maxBytes: 1000 });
    expect((await fetchMedia(`${base}/redirect`, cfg, 'image')).bytes.toString()).toBe('abc');
    await expect(fetchMedia(`${base}/big`, cfg, 'image')).rejects.toMatchObject({ code: 'media_too_large' });
    await expect(fetchMedia(`${base}/missing`, cfg, 'image')).rejects.toMatchObject({ code: 'fetch_failed' });
    await expect(fetchMedia(`${base}/small`, media({ allowUrls: true }), 'image')).rejects.toMatchObject({ code: 'url_not_allowed' });
  });

  it('parses data: URIs', () => {
    expect(decodeDataUri('data:image/png;base64,YWJj', media(), 'image')).toMatchObject({ declaredType: 'image/png' });
    expect(() => decodeDataUri('data:text/plain,abc', media(), 'image')).toThrow(/base64/);
  });
});

describe('audio decoding', () => {
  it('decodes MP3, Ogg Vorbis, FLAC and WAV to 16 kHz mono, keeping the pitch', async () => {
    for (const f of ['tone.mp3', 'tone.ogg', 'tone.flac', 'tone-44k-stereo.wav']) {
      const a = await decodeAudio(readFileSync(`test/fixtures/media/${f}`), media());
      expect(a.sampleRate).toBe(16000);
      expect(a.sourceRate, f).toBe(44100);
      expect(a.sourceChannels, f).toBe(2);
      // 440 Hz: count zero crossings in the middle second (away from encoder padding).
      const mid = a.samples.subarray(4000, 20000);
      let z = 0;
      for (let i = 1; i < mid.length; i++) if (mid[i - 1]! < 0 !== mid[i]! < 0) z++;
      expect(z / 2, f).toBeGreaterThan(430);
      expect(z / 2, f).toBeLessThan(450);
    }
  });

  it('refuses audio over the duration limit', async () => {
    await expect(decodeAudio(readFileSync('test/fixtures/media/tone.flac'), media({ maxAudioSeconds: 1 }))).rejects.toMatchObject({
      code: 'media_too_large',
    });
  });

  it('resampling removes content above the new Nyquist frequency', async () => {
    const x = Float32Array.from({ length: 44100 }, (_, i) => Math.sin((2 * Math.PI * 12000 * i) / 44100));
    const y = await resample(x, 44100, 16000);
    expect(y.length).toBe(16000);
    const rms = Math.sqrt(y.subarray(1000, 15000).reduce((a, v) => a + v * v, 0) / 14000);
    expect(rms).toBeLessThan(0.05); // 12 kHz would alias to 4 kHz at full strength without the filter
  });
});

describe('DB geometry and VAD segmentation', () => {
  it('fits the minimum-area rectangle of a rotated rectangle', () => {
    const a = (30 * Math.PI) / 180;
    const pts: Array<[number, number]> = [];
    for (let u = 0; u <= 100; u += 5)
      for (let v = 0; v <= 20; v += 5) pts.push([50 + u * Math.cos(a) - v * Math.sin(a), 50 + u * Math.sin(a) + v * Math.cos(a)]);
    const r = minAreaRect(convexHull(pts));
    expect(Math.max(r.w, r.h)).toBeCloseTo(100, 5);
    expect(Math.min(r.w, r.h)).toBeCloseTo(20, 5);
    const angle = (Math.atan2(r.u[1], r.u[0]) * 180) / Math.PI;
    expect([30, -150, 120, -60].some((x) => Math.abs(angle - x) < 1e-6)).toBe(true);
  });

  it('segments window probabilities with hysteresis, minimum durations and padding', () => {
    const probs = new Float32Array(100);
    probs.fill(0.9, 10, 40); // 0.32 s .. 1.28 s
    probs.fill(0.4, 40, 42); // between the thresholds: still speech
    probs.fill(0.9, 42, 50);
    probs.fill(0.9, 70, 72); // 64 ms: shorter than the minimum speech
    const segs = segmentSpeech(probs, 100 * 512, VAD_DEFAULTS);
    expect(segs).toHaveLength(1);
    expect(segs[0]!.start).toBeCloseTo(0.32 - 0.03, 3);
    expect(segs[0]!.end).toBeCloseTo(1.6 + 0.03, 3);
  });
});
