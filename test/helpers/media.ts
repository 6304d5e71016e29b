/**
 * Media test helpers: the shipped fixtures, their ground truth, and small WAV/PNG builders.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import wavefile from 'wavefile';

export const PAGE = 'examples/ocr-page.png';
export const SIGN = 'test/fixtures/media/ocr-sign.png';
export const SPEECH = 'examples/speech.wav';

/** test/fixtures/media/truth.json */
export const TRUTH = JSON.parse(readFileSync('test/fixtures/media/truth.json', 'utf8')) as {
  'ocr-page.png': string[];
  'ocr-sign.png': string[];
  'speech.wav': { seconds: number; spoken: Array<[number, number]> };
};

/** A 16-bit mono WAV of `samples` at `rate`. */
export function wav(samples: Float32Array | number[], rate = 16000): Buffer {
  const w = new wavefile.WaveFile();
  w.fromScratch(
    1,
    rate,
    '16',
    Int16Array.from(samples, (v) => Math.round(Math.max(-1, Math.min(1, v)) * 32767)),
  );
  return Buffer.from(w.toBuffer());
}

/** A noise-like test signal (deterministic). */
export function signal(seconds: number, rate = 16000): Float32Array {
  return Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0007) + 0.05 * Math.sin(i * 1.3),
  );
}

/** A PNG of a horizontal gradient. */
export async function png(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) data.fill(Math.round(((i % width) / width) * 255), i * 3, i * 3 + 3);
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * The ink bounds of each text line of a rendered fixture page: rows are split at the line
 * pitch the fixture generator used (first line at y=20, `pitch` px per line), and a pixel is ink
 * when it differs from the background by more than 60 in some channel.
 */
export async function inkBoxes(
  file: string,
  lines: number,
  pitch: number,
): Promise<Array<{ xmin: number; ymin: number; xmax: number; ymax: number }>> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const bg = [data[0]!, data[1]!, data[2]!];
  const out = [];
  for (let l = 0; l < lines; l++) {
    let xmin = Infinity;
    let ymin = Infinity;
    let xmax = -1;
    let ymax = -1;
    for (let y = 20 + l * pitch; y < Math.min(info.height, 20 + (l + 1) * pitch); y++) {
      for (let x = 0; x < info.width; x++) {
        const i = (y * info.width + x) * 3;
        if (Math.max(Math.abs(data[i]! - bg[0]!), Math.abs(data[i + 1]! - bg[1]!), Math.abs(data[i + 2]! - bg[2]!)) > 60) {
          xmin = Math.min(xmin, x);
          xmax = Math.max(xmax, x + 1);
          ymin = Math.min(ymin, y);
          ymax = Math.max(ymax, y + 1);
        }
      }
    }
    out.push({ xmin, ymin, xmax, ymax });
  }
  return out;
}

/** Text without whitespace, for comparing OCR output (the model often drops spaces). */
export const squash = (s: string) => s.replace(/\s+/g, '');

const crc8 = (b: Uint8Array) => {
  let c = 0;
  for (const x of b) {
    c ^= x;
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
};
const crc16 = (b: Uint8Array) => {
  let c = 0;
  for (const x of b) {
    c ^= x << 8;
    for (let i = 0; i < 8; i++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
};
/** FLAC's UTF-8-like coding of a frame number. */
const utf8Int = (n: number): number[] => {
  if (n < 0x80) return [n];
  if (n < 0x800) return [0xc0 | (n >> 6), 0x80 | (n & 0x3f)];
  if (n < 0x10000) return [0xe0 | (n >> 12), 0x80 | ((n >> 6) & 0x3f), 0x80 | (n & 0x3f)];
  return [0xf0 | (n >> 18), 0x80 | ((n >> 12) & 0x3f), 0x80 | ((n >> 6) & 0x3f), 0x80 | (n & 0x3f)];
};

/**
 * A valid mono 16-bit FLAC made of CONSTANT frames of 32,768 samples each: about a dozen bytes
 * per frame, so a small file decodes to an enormous signal (a decompression bomb). STREAMINFO
 * declares `rate` and `declaredSamples` (0 = length unknown, as streamed files have).
 */
export function flacBomb(o: { rate: number; frames: number; declaredSamples?: number; value?: number }): Buffer {
  const block = 32768;
  const info = Buffer.alloc(4 + 34);
  info[0] = 0x80; // last metadata block, type STREAMINFO
  info.writeUIntBE(34, 1, 3);
  info.writeUInt16BE(block, 4);
  info.writeUInt16BE(block, 6);
  const total = o.declaredSamples ?? 0;
  // rate (20 bits) | channels-1 (3) | bits-1 (5) | total samples (36)
  const hi = (o.rate << 12) | (0 << 9) | (15 << 4) | Math.floor(total / 2 ** 32);
  info.writeUInt32BE(hi >>> 0, 14);
  info.writeUInt32BE(total % 2 ** 32, 18);
  // The frame's own rate code (a decoder may not take it from STREAMINFO); 0 = from STREAMINFO.
  const rateCode =
    ({ 8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10, 96000: 11 } as Record<number, number>)[o.rate] ?? 0;
  const frames: Buffer[] = [];
  for (let n = 0; n < o.frames; n++) {
    // sync + fixed blocking, block size code 15 (32768), the rate, mono, 16-bit
    const head = Uint8Array.from([0xff, 0xf8, 0xf0 | rateCode, 0x08, ...utf8Int(n)]);
    const body = Uint8Array.from([...head, crc8(head), 0x00, ((o.value ?? 4096) >> 8) & 0xff, (o.value ?? 4096) & 0xff]);
    const c = crc16(body);
    frames.push(Buffer.from([...body, c >> 8, c & 0xff]));
  }
  return Buffer.concat([Buffer.from('fLaC'), info, ...frames]);
}
