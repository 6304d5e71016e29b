/**
 * @module tools/media/make-fixtures
 * Writes the media fixtures the project ships (committed, so tests and CI never run this):
 *
 * - `examples/ocr-page.png`: printed lines in several fonts, one bold coloured line.
 * - `test/fixtures/media/ocr-sign.png`: two large lines, coloured text on a tinted background.
 * - `examples/speech.wav`: 16 kHz mono speech (espeak-ng) between known silences.
 * - `test/fixtures/media/tone.{mp3,ogg,flac}` and `tone-44k-stereo.wav`: 1.5 s tones for the decoders.
 * - `test/fixtures/media/truth.json`: the text of each image line and the spoken spans in seconds.
 *
 * Regenerating needs sharp (a dependency), the DejaVu fonts, espeak-ng and sox with MP3 support
 * (Debian: `apt-get install fonts-dejavu-core espeak-ng sox libsox-fmt-mp3`).
 * Run: `npx tsx tools/media/make-fixtures.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import wavefile from 'wavefile';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const media = join(root, 'test/fixtures/media');
const examples = join(root, 'examples');
mkdirSync(media, { recursive: true });
mkdirSync(examples, { recursive: true });

interface Line {
  text: string;
  font: string;
  size: number;
  weight?: string;
  style?: string;
  fill?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

async function page(file: string, width: number, lineHeight: number, lines: Line[], background = '#ffffff'): Promise<void> {
  const height = lineHeight * lines.length + 40;
  const body = lines
    .map(
      (l, i) =>
        `<text x="30" y="${20 + lineHeight * i + Math.round(lineHeight * 0.7)}" font-family="${l.font}" font-size="${l.size}" font-weight="${l.weight ?? 'normal'}" font-style="${l.style ?? 'normal'}" fill="${l.fill ?? '#111111'}">${esc(l.text)}</text>`,
    )
    .join('\n');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${background}"/>${body}</svg>`;
  await sharp(Buffer.from(svg)).flatten({ background }).png({ compressionLevel: 9 }).toFile(file);
}

const pageLines: Line[] = [
  { text: 'Local models as agent tools', font: 'DejaVu Sans', size: 30 },
  { text: 'Invoice 2041: total 318.50 EUR', font: 'DejaVu Serif', size: 30 },
  { text: 'npx hf-model-server --port 8080', font: 'DejaVu Sans Mono', size: 28 },
  { text: 'Quick brown foxes jump high', font: 'DejaVu Sans', size: 30, style: 'oblique' },
  { text: 'Shipped with no network at all', font: 'DejaVu Sans', size: 32, weight: 'bold', fill: '#c0392b' },
];
const signLines: Line[] = [
  { text: 'OPEN DAILY 9 TO 5', font: 'DejaVu Sans', size: 44, weight: 'bold', fill: '#1f4e99' },
  { text: 'Deliveries at the rear', font: 'DejaVu Serif', size: 36, fill: '#1e7a3c' },
];
await page(join(examples, 'ocr-page.png'), 720, 56, pageLines);
await page(join(media, 'ocr-sign.png'), 640, 72, signLines, '#fdf3d0');

// Speech: phrases from espeak-ng, resampled to 16 kHz mono, placed between silences.
const tmp = mkdtempSync(join(tmpdir(), 'media-'));
const RATE = 16_000;
function speak(text: string): Float32Array {
  const raw = join(tmp, 'raw.wav');
  const out = join(tmp, 'out.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
  execFileSync('sox', [raw, '-r', String(RATE), '-c', '1', '-b', '16', out]);
  const w = new wavefile.WaveFile(readFileSync(out));
  const s = w.getSamples(false, Float64Array) as unknown as Float64Array;
  // Trim espeak's own leading and trailing silence so the spans below are exact.
  let a = 0;
  let b = s.length - 1;
  while (a < b && Math.abs(s[a]!) < 300) a++;
  while (b > a && Math.abs(s[b]!) < 300) b--;
  return Float32Array.from(s.subarray(a, b + 1), (v) => v / 32768);
}
const phrases = ['Please transcribe this short recording of speech', 'The server runs local models for agents'];
const gaps = [1.0, 1.5, 1.2];
const parts: Float32Array[] = [];
const spans: Array<[number, number]> = [];
let t = 0;
for (let i = 0; i < phrases.length; i++) {
  parts.push(new Float32Array(Math.round(gaps[i]! * RATE)));
  t += gaps[i]!;
  const p = speak(phrases[i]!);
  parts.push(p);
  spans.push([round(t), round(t + p.length / RATE)]);
  t += p.length / RATE;
}
parts.push(new Float32Array(Math.round(gaps.at(-1)! * RATE)));
const total = parts.reduce((n, p) => n + p.length, 0);
const all = new Int16Array(total);
let off = 0;
for (const p of parts) {
  for (let i = 0; i < p.length; i++) all[off + i] = Math.max(-32768, Math.min(32767, Math.round(p[i]! * 32767)));
  off += p.length;
}
const speech = new wavefile.WaveFile();
speech.fromScratch(1, RATE, '16', all);
writeFileSync(join(examples, 'speech.wav'), speech.toBuffer());

// Tones for the decoders: 1.5 s of 440 Hz at 44.1 kHz stereo, then encoded by sox.
const toneWav = join(media, 'tone-44k-stereo.wav');
execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', toneWav, 'synth', '1.5', 'sine', '440', 'gain', '-6']);
execFileSync('sox', [toneWav, '-C', '64', join(media, 'tone.mp3')]);
execFileSync('sox', [toneWav, '-C', '3', join(media, 'tone.ogg')]);
execFileSync('sox', [toneWav, join(media, 'tone.flac')]);

writeFileSync(
  join(media, 'truth.json'),
  JSON.stringify(
    {
      'ocr-page.png': pageLines.map((l) => l.text),
      'ocr-sign.png': signLines.map((l) => l.text),
      'speech.wav': { seconds: round(total / RATE), spoken: spans, phrases },
      tone: { seconds: 1.5, hz: 440 },
    },
    null,
    2,
  ) + '\n',
);
console.error(`wrote fixtures; speech ${round(total / RATE)} s, spans ${JSON.stringify(spans)}`);

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
