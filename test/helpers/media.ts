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
  w.fromScratch(1, rate, '16', Int16Array.from(samples, (v) => Math.round(Math.max(-1, Math.min(1, v)) * 32767)));
  return Buffer.from(w.toBuffer());
}

/** A noise-like test signal (deterministic). */
export function signal(seconds: number, rate = 16000): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0007) + 0.05 * Math.sin(i * 1.3));
}

/** A PNG of a horizontal gradient. */
export async function png(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) data.fill(Math.round(((i % width) / width) * 255), i * 3, i * 3 + 3);
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/**
 * The ink bounds of each text line of a rendered fixture page: rows are split at the line
 * pitch the fixture generator used (first line at y=20, `pitch` px per line), and a pixel is ink
 * when it differs from the background by more than 60 in some channel.
 */
export async function inkBoxes(file: string, lines: number, pitch: number): Promise<Array<{ xmin: number; ymin: number; xmax: number; ymax: number }>> {
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
