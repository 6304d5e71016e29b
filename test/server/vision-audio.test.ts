/**
 * The vision and audio tools through a real MCP client: the real PaddleOCR and Silero VAD
 * models shipped in npm packages on shipped fixtures, and generated DETR, ViT, CLIP and Whisper
 * models for shapes (including 60 s of audio, which needs chunking).
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Harness } from '../helpers/server.js';
import { PAGE, SIGN, SPEECH, TRUTH, inkBoxes, png, signal, squash, wav } from '../helpers/media.js';

type Line = {
  text: string;
  confidence: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
  polygon: number[][];
  rotated: boolean;
};

let h: Harness;
beforeAll(async () => {
  h = await startServer();
}, 120_000);
afterAll(async () => h?.close());

const sc = (r: { structuredContent?: unknown; isError?: boolean; content?: unknown }) => {
  if (r.isError) throw new Error(`tool error: ${JSON.stringify(r.content)}`);
  return r.structuredContent as Record<string, unknown>;
};

describe('ocr with the real PaddleOCR models', () => {
  for (const [file, key, pitch] of [
    [PAGE, 'ocr-page.png', 56],
    [SIGN, 'ocr-sign.png', 72],
  ] as const) {
    it(`reads every line of ${file}`, async () => {
      const out = sc(await h.call('ocr', { image: file }));
      const lines = out.lines as Line[];
      const truth = TRUTH[key];
      expect(lines.map((l) => squash(l.text))).toEqual(truth.map(squash));
      const exact = lines.filter((l, i) => l.text === truth[i]).length;
      console.info(`[ocr] ${file}: ${lines.length}/${truth.length} lines match ignoring whitespace, ${exact} exactly`);
      expect(exact).toBe(truth.length);
      expect(out.text).toBe(lines.map((l) => l.text).join('\n'));
      const ink = await inkBoxes(file, truth.length, pitch);
      lines.forEach((l, i) => {
        expect(l.confidence).toBeGreaterThan(0.8);
        expect(l.rotated).toBe(false);
        expect(l.box.xmin).toBeLessThanOrEqual(ink[i]!.xmin + 1);
        expect(l.box.xmax).toBeGreaterThanOrEqual(ink[i]!.xmax - 1);
      });
    }, 60_000);
  }

  it('accepts base64 and data: URIs, and turns an upside-down page before reading', async () => {
    const flipped = await sharp(PAGE).rotate(180).png().toBuffer();
    const b64 = sc(await h.call('ocr', { image_base64: flipped.toString('base64') }));
    const lines = b64.lines as Line[];
    const want = new Set(TRUTH['ocr-page.png'].map(squash));
    const read = lines.filter((l) => l.rotated && want.has(squash(l.text)));
    expect(read.length).toBeGreaterThanOrEqual(4); // the italic line, upside down, can fool the orientation classifier
    const uri = `data:image/png;base64,${readFileSync(SIGN).toString('base64')}`;
    expect((sc(await h.call('ocr', { image: uri })).lines as Line[]).map((l) => squash(l.text))).toEqual(TRUTH['ocr-sign.png'].map(squash));
  }, 60_000);
});

describe('detect', () => {
  // DB boxes with PaddleOCR's unclip ratio 1.5 hug the glyphs: they may clip a pixel or two of
  // the tallest strokes, so the vertical check allows 3 px.
  it('text mode: one box per line, each enclosing its line', async () => {
    const out = sc(await h.call('detect', { image: PAGE, mode: 'text' }));
    expect(out.model).toBe('paddleocr-v4');
    const det = out.detections as Array<{ label: string; box: Line['box']; polygon: number[][] }>;
    const ink = await inkBoxes(PAGE, 5, 56);
    expect(det).toHaveLength(5);
    det.forEach((d, i) => {
      const k = ink[i]!;
      expect(d.label).toBe('text');
      expect(d.polygon).toHaveLength(4);
      expect(d.box.xmin).toBeLessThanOrEqual(k.xmin + 1);
      expect(d.box.ymin).toBeLessThanOrEqual(k.ymin + 3);
      expect(d.box.xmax).toBeGreaterThanOrEqual(k.xmax - 1);
      expect(d.box.ymax).toBeGreaterThanOrEqual(k.ymax - 3);
      // ... and only its own line: the box stays off the neighbouring lines' ink.
      if (i > 0) expect(d.box.ymin).toBeGreaterThan(ink[i - 1]!.ymax - 2);
      if (i < 4) expect(d.box.ymax).toBeLessThan(ink[i + 1]!.ymin + 2);
    });
  }, 60_000);

  it('text mode on rotated text returns rotated quadrilaterals (contour boxes)', async () => {
    const tilted = await sharp(SIGN).rotate(12, { background: '#fdf3d0' }).png().toBuffer();
    const out = sc(await h.call('detect', { image_base64: tilted.toString('base64'), mode: 'text' }));
    const det = out.detections as Array<{ polygon: number[][] }>;
    expect(det).toHaveLength(2);
    for (const d of det) {
      const [tl, tr] = d.polygon as [[number, number], [number, number]];
      const angle = (Math.atan2(tr[1] - tl[1], tr[0] - tl[0]) * 180) / Math.PI;
      expect(Math.abs(angle - 12)).toBeLessThan(3);
    }
  }, 60_000);

  it('objects mode with a generated DETR model: labelled pixel boxes inside the image', async () => {
    const out = sc(await h.call('detect', { image_base64: (await png(96, 64)).toString('base64'), threshold: 0 }));
    expect(out).toMatchObject({ model: 'detr-resnet-50', mode: 'objects', width: 96, height: 64 });
    const det = out.detections as Array<{ label: string; score: number; box: Line['box'] }>;
    expect(det.length).toBeGreaterThan(0);
    for (const d of det) {
      expect(typeof d.label).toBe('string');
      expect(d.box.xmin).toBeGreaterThanOrEqual(0);
      expect(d.box.xmax).toBeLessThanOrEqual(96);
      expect(d.box.ymax).toBeLessThanOrEqual(64);
      expect(d.box.xmin).toBeLessThanOrEqual(d.box.xmax);
    }
    expect(det.map((d) => d.score)).toEqual([...det.map((d) => d.score)].sort((a, b) => b - a));
  }, 60_000);
});

describe('classify images with generated models', () => {
  it('ViT: top_k labels with probabilities', async () => {
    const out = sc(await h.call('classify', { image_base64: (await png(40, 30)).toString('base64'), top_k: 3 }));
    expect(out.model).toBe('vit-base-patch16-224');
    const labels = (out.results as Array<{ labels: Array<{ label: string; score: number }> }>)[0]!.labels;
    expect(labels).toHaveLength(3);
    expect(labels[0]!.score).toBeGreaterThanOrEqual(labels[2]!.score);
  }, 60_000);

  it('CLIP zero-shot: every candidate label scored, summing to 1', async () => {
    const out = sc(await h.call('classify', { image: PAGE, candidate_labels: ['a document', 'a cat', 'a car'] }));
    expect(out.model).toBe('clip-vit-base-patch32');
    const labels = (out.results as Array<{ labels: Array<{ label: string; score: number }> }>)[0]!.labels;
    expect(labels.map((l) => l.label).sort()).toEqual(['a car', 'a cat', 'a document']);
    expect(labels.reduce((a, l) => a + l.score, 0)).toBeCloseTo(1, 3);
  }, 60_000);
});

describe('speech', () => {
  it('detect_speech: Silero VAD segments cover the spoken spans within 0.2 s and nothing in the silences', async () => {
    const out = sc(await h.call('detect_speech', { audio: SPEECH }));
    const segs = out.segments as Array<{ start: number; end: number }>;
    const { spoken, seconds } = TRUTH['speech.wav'];
    expect(out.duration).toBeCloseTo(seconds, 2);
    for (const [a, b] of spoken) {
      const over = segs.filter((s) => s.end > a && s.start < b);
      expect(over.length).toBeGreaterThan(0);
      expect(Math.abs(over[0]!.start - a)).toBeLessThanOrEqual(0.2);
      expect(Math.abs(over.at(-1)!.end - b)).toBeLessThanOrEqual(0.2);
    }
    // Every segment lies within a spoken span (give or take 0.2 s): none in the silences.
    for (const s of segs) expect(spoken.some(([a, b]) => s.start >= a - 0.2 && s.end <= b + 0.2)).toBe(true);
  }, 60_000);

  it('transcribe with a generated Whisper: text and timestamped segments', async () => {
    const out = sc(await h.call('transcribe', { audio_base64: wav(signal(3)).toString('base64'), max_new_tokens: 6 }));
    expect(out.model).toBe('whisper-tiny');
    expect(typeof out.text).toBe('string');
    expect(out.duration).toBeCloseTo(3, 2);
    expect(Array.isArray(out.segments)).toBe(true);
  }, 60_000);

  it('transcribe 60 s of audio: chunked windows, timestamps within the audio', async () => {
    const out = sc(
      await h.call('transcribe', {
        audio_base64: wav(signal(60)).toString('base64'),
        max_new_tokens: 4,
        language: 'en',
        task: 'translate',
      }),
    );
    expect(out.duration).toBeCloseTo(60, 1);
    for (const s of out.segments as Array<{ start: number | null; end: number | null }>) {
      if (s.start !== null) expect(s.start).toBeLessThanOrEqual(60.01);
      if (s.end !== null) expect(s.end).toBeLessThanOrEqual(60.01);
    }
  }, 120_000);

  it('transcribe with vad: only the spoken spans are transcribed', async () => {
    const out = sc(await h.call('transcribe', { audio: SPEECH, vad: true, max_new_tokens: 4 }));
    const speech = out.speech as Array<{ start: number; end: number }>;
    expect(speech.length).toBeGreaterThanOrEqual(2);
    for (const s of out.segments as Array<{ start: number | null }>) {
      if (s.start !== null) expect(speech.some((p) => s.start! >= p.start - 0.05 && s.start! <= p.end + 0.05)).toBe(true);
    }
  }, 60_000);

  it('reads MP3, Ogg Vorbis and FLAC', async () => {
    for (const f of ['tone.mp3', 'tone.ogg', 'tone.flac', 'tone-44k-stereo.wav']) {
      const out = sc(await h.call('detect_speech', { audio: `test/fixtures/media/${f}` }));
      expect(out.duration, f).toBeGreaterThan(1.45);
      expect(out.duration, f).toBeLessThan(1.6);
    }
  }, 60_000);
});

describe('in-process inference (--inference-thread main)', () => {
  it('routes OCR and speech detection to the onnxruntime backend and the rest to transformers.js', async () => {
    const m = await startServer({ inferenceThread: 'main' });
    try {
      const ocr = sc(await m.call('ocr', { image: SIGN }));
      expect((ocr.lines as Line[]).map((l) => squash(l.text))).toEqual(TRUTH['ocr-sign.png'].map(squash));
      expect((sc(await m.call('detect_speech', { audio: SPEECH })).segments as unknown[]).length).toBeGreaterThanOrEqual(2);
      expect(sc(await m.call('classify', { image: SIGN, top_k: 2 })).model).toBe('vit-base-patch16-224');
    } finally {
      await m.close();
    }
  }, 60_000);
});
