/**
 * @module backends/onnx/paddle-ocr
 * PaddleOCR PP-OCRv4 on raw onnxruntime: text detection (DB), orientation (cls) and recognition
 * (CTC), with PaddleOCR's reference pre- and post-processing (see ../shared/docs). The tensor
 * builders are exported so the benchmark can time raw sessions on the very same tensors.
 */
import type * as ort from 'onnxruntime-node';
import type { ImagePixels, OcrLine, OcrOutput, OcrTimings, Quad, TextBox, TextDetectOutput } from '../types.js';
import {
  connectedRegions,
  convexHull,
  meanInside,
  minAreaRect,
  orderQuad,
  quadBounds,
  readingOrder,
  rectCorners,
  unclip,
  type Point,
} from './geometry.js';
import { DET_DEFAULTS, type DetParams } from './tasks.js';

/** The onnxruntime module (passed in: only backends/onnx/backend.ts imports it). */
export type Ort = typeof ort;

const DET_MEAN = [0.485, 0.456, 0.406];
const DET_STD = [0.229, 0.224, 0.225];

/** The detector's input size: long side at most `limit`, each side a multiple of 32 (at least 32). */
export function detSize(width: number, height: number, limit: number): { width: number; height: number } {
  const ratio = Math.max(width, height) > limit ? limit / Math.max(width, height) : 1;
  const r32 = (n: number) => Math.max(32, Math.round((n * ratio) / 32) * 32);
  return { width: r32(width), height: r32(height) };
}

/**
 * Bilinear resize into a CHW float tensor in B,G,R channel order, normalised per channel with
 * (v/255 - mean[c]) / std[c] (PaddleOCR applies its mean/std list to B,G,R in that order).
 */
function resizeNormalize(img: ImagePixels, outW: number, outH: number, dst: Float32Array): void {
  const { data, width, height } = img;
  const sx = width / outW;
  const sy = height / outH;
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fxs = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x]! + 1, width - 1);
    fxs[x] = fx - x0s[x]!;
  }
  const scale = DET_STD.map((s) => 1 / (255 * s));
  const bias = DET_MEAN.map((m, c) => -m / DET_STD[c]!);
  const plane = outW * outH;
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    const r0 = y0 * width * 3;
    const r1 = y1 * width * 3;
    const o = y * outW;
    for (let x = 0; x < outW; x++) {
      const a = x0s[x]! * 3;
      const b = x1s[x]! * 3;
      const wx = fxs[x]!;
      for (let c = 0; c < 3; c++) {
        const top = data[r0 + a + c]! + (data[r0 + b + c]! - data[r0 + a + c]!) * wx;
        const bot = data[r1 + a + c]! + (data[r1 + b + c]! - data[r1 + a + c]!) * wx;
        const v = top + (bot - top) * wy;
        const ch = 2 - c; // RGB source -> BGR planes
        dst[o + ch * plane + x] = v * scale[ch]! + bias[ch]!;
      }
    }
  }
}

/** The detector's input tensor data for an image, and its size. */
export function detInput(img: ImagePixels, limit = DET_DEFAULTS.limitSide): { data: Float32Array; width: number; height: number } {
  const { width, height } = detSize(img.width, img.height, limit);
  const data = new Float32Array(3 * width * height);
  resizeNormalize(img, width, height, data);
  return { data, width, height };
}

/**
 * DB post-processing: threshold the probability map, take connected regions, fit minimum-area
 * rectangles, score them by mean probability, unclip, and scale back to the image.
 */
export function dbBoxes(
  map: Float32Array,
  mapW: number,
  mapH: number,
  imgW: number,
  imgH: number,
  p: Omit<DetParams, 'limitSide'>,
): TextBox[] {
  const bitmap = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) bitmap[i] = map[i]! > p.threshold ? 1 : 0;
  const sx = imgW / mapW;
  const sy = imgH / mapH;
  const out: TextBox[] = [];
  for (const region of connectedRegions(bitmap, mapW, mapH, 1, 1000)) {
    const rect = minAreaRect(convexHull(region.points));
    if (Math.min(rect.w, rect.h) < 3) continue;
    const score = meanInside(map, mapW, mapH, rectCorners(rect));
    if (score < p.boxThreshold) continue;
    const grown = unclip(rect, p.unclipRatio);
    if (Math.min(grown.w, grown.h) < 5) continue;
    const corners = rectCorners(grown).map(([x, y]): Point => [clamp(x * sx, 0, imgW), clamp(y * sy, 0, imgH)]);
    const quad = orderQuad(corners).map(([x, y]) => [round1(x), round1(y)]) as Quad;
    out.push({ quad, box: quadBounds(quad, imgW, imgH), score: round4(score) });
  }
  return readingOrder(out);
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
const round1 = (v: number) => Math.round(v * 10) / 10;
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** How to read a text region: its origin, unit axes and size in source pixels. */
export interface CropFrame {
  origin: Point;
  ax: Point;
  ay: Point;
  w: number;
  h: number;
}

/**
 * The reading frame of a quad (PaddleOCR's get_rotate_crop_image): along its top edge, or turned
 * 90 degrees for tall regions (height >= 1.5 x width); `flip` turns it 180 degrees.
 */
export function cropFrame(q: Quad, flip = false): CropFrame {
  const [tl, tr, br, bl] = q;
  const w = Math.max(dist(tl, tr), dist(bl, br), 1);
  const h = Math.max(dist(tl, bl), dist(tr, br), 1);
  let f: CropFrame = { origin: tl, ax: [(tr[0] - tl[0]) / w, (tr[1] - tl[1]) / w], ay: [(bl[0] - tl[0]) / h, (bl[1] - tl[1]) / h], w, h };
  if (h / w >= 1.5) f = { origin: tr, ax: f.ay, ay: [-f.ax[0], -f.ax[1]], w: h, h: w };
  if (flip) {
    const o: Point = [f.origin[0] + f.ax[0] * f.w + f.ay[0] * f.h, f.origin[1] + f.ax[1] * f.w + f.ay[1] * f.h];
    f = { origin: o, ax: [-f.ax[0], -f.ax[1]], ay: [-f.ay[0], -f.ay[1]], w: f.w, h: f.h };
  }
  return f;
}

/**
 * Samples a frame into a [3, outH, padW] slot of `dst` (bilinear, B,G,R, (v/255 - 0.5)/0.5),
 * `outW` columns of image then zeros, which is PaddleOCR's right padding.
 */
function sampleFrame(img: ImagePixels, f: CropFrame, outW: number, outH: number, padW: number, dst: Float32Array, offset: number): void {
  const { data, width, height } = img;
  const plane = outH * padW;
  const su = f.w / outW;
  const sv = f.h / outH;
  for (let v = 0; v < outH; v++) {
    const dv = (v + 0.5) * sv;
    const bx = f.origin[0] + f.ay[0] * dv;
    const by = f.origin[1] + f.ay[1] * dv;
    for (let u = 0; u < outW; u++) {
      const du = (u + 0.5) * su;
      const x = clamp(bx + f.ax[0] * du - 0.5, 0, width - 1);
      const y = clamp(by + f.ax[1] * du - 0.5, 0, height - 1);
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const wx = x - x0;
      const wy = y - y0;
      const i00 = (y0 * width + x0) * 3;
      const i01 = (y0 * width + x1) * 3;
      const i10 = (y1 * width + x0) * 3;
      const i11 = (y1 * width + x1) * 3;
      for (let c = 0; c < 3; c++) {
        const top = data[i00 + c]! + (data[i01 + c]! - data[i00 + c]!) * wx;
        const bot = data[i10 + c]! + (data[i11 + c]! - data[i10 + c]!) * wx;
        const val = top + (bot - top) * wy;
        dst[offset + (2 - c) * plane + v * padW + u] = val / 127.5 - 1;
      }
    }
  }
}

/** Height of recognition and orientation inputs. */
export const REC_HEIGHT = 48;
/** Orientation classifier input width. */
export const CLS_WIDTH = 192;
/** Minimum recognition input width (PaddleOCR pads to at least 320). */
export const REC_MIN_WIDTH = 320;
/** Crops per recognition batch (PaddleOCR's rec_batch_num). */
export const REC_BATCH = 6;

/** A batch tensor: data and dims [n, 3, 48, width]. */
export interface BatchTensor {
  data: Float32Array;
  dims: [number, number, number, number];
}

/** Frames at height 48, aspect ratio kept, right-padded to `padW`: one [n, 3, 48, padW] tensor. */
function framesInput(img: ImagePixels, frames: CropFrame[], padW: number): BatchTensor {
  const plane = 3 * REC_HEIGHT * padW;
  const data = new Float32Array(frames.length * plane);
  frames.forEach((f, i) => {
    const w = Math.min(padW, Math.ceil((REC_HEIGHT * f.w) / f.h));
    sampleFrame(img, f, w, REC_HEIGHT, padW, data, i * plane);
  });
  return { data, dims: [frames.length, 3, REC_HEIGHT, padW] };
}

/** The orientation classifier's input for frames (48 x 192). */
export function clsInput(img: ImagePixels, frames: CropFrame[]): BatchTensor {
  return framesInput(img, frames, CLS_WIDTH);
}

/** Groups frame indices into recognition batches of similar aspect ratio (PaddleOCR's order). */
export function recBatches(frames: CropFrame[]): number[][] {
  const order = frames.map((f, i) => ({ i, r: f.w / f.h })).sort((a, b) => a.r - b.r);
  const out: number[][] = [];
  for (let k = 0; k < order.length; k += REC_BATCH) out.push(order.slice(k, k + REC_BATCH).map((o) => o.i));
  return out;
}

/** The recognizer's input for a batch of frames, padded to the widest (at least 320). */
export function recInput(img: ImagePixels, frames: CropFrame[]): BatchTensor {
  const maxRatio = Math.max(REC_MIN_WIDTH / REC_HEIGHT, ...frames.map((f) => f.w / f.h));
  return framesInput(img, frames, Math.ceil(REC_HEIGHT * maxRatio));
}

/** CTC greedy decoding of [n, T, C] probabilities over `chars` (index 0 = blank). */
export function ctcDecode(
  probs: Float32Array,
  n: number,
  steps: number,
  classes: number,
  chars: string[],
): Array<{ text: string; confidence: number }> {
  const out = [];
  for (let b = 0; b < n; b++) {
    let text = '';
    let sum = 0;
    let count = 0;
    let prev = -1;
    for (let t = 0; t < steps; t++) {
      const off = (b * steps + t) * classes;
      let best = 0;
      let bestP = probs[off]!;
      for (let c = 1; c < classes; c++) {
        const p = probs[off + c]!;
        if (p > bestP) {
          bestP = p;
          best = c;
        }
      }
      if (best !== 0 && best !== prev) {
        text += chars[best] ?? '';
        sum += bestP;
        count++;
      }
      prev = best;
    }
    out.push({ text, confidence: count ? round4(sum / count) : 0 });
  }
  return out;
}

/** The recognizer's character table: blank, the dictionary's lines, then a space. */
export function recCharset(dictionary: string): string[] {
  const lines = dictionary.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return ['', ...lines, ' '];
}

/** Loaded PaddleOCR sessions. */
export interface PaddleSessions {
  det: ort.InferenceSession;
  rec: ort.InferenceSession;
  cls?: ort.InferenceSession | undefined;
  chars: string[];
}

async function timed(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<[ort.InferenceSession.OnnxValueMapType, number]> {
  const t = performance.now();
  const r = await s.run(feeds);
  return [r, performance.now() - t];
}

const first = (r: ort.InferenceSession.OnnxValueMapType) => r[Object.keys(r)[0]!] as ort.Tensor;

/** Runs text detection. */
export async function detectText(O: Ort, s: PaddleSessions, img: ImagePixels, p: DetParams): Promise<TextDetectOutput> {
  const t0 = performance.now();
  const input = detInput(img, p.limitSide);
  const [r, detMs] = await timed(s.det, { [s.det.inputNames[0]!]: new O.Tensor('float32', input.data, [1, 3, input.height, input.width]) });
  const map = first(r);
  const boxes = dbBoxes(map.data as Float32Array, input.width, input.height, img.width, img.height, p);
  return { boxes, timings: { detMs, clsMs: 0, recMs: 0, totalMs: performance.now() - t0 } };
}

/** Runs detection, orientation and recognition; lines come back in reading order. */
export async function recognize(
  O: Ort,
  s: PaddleSessions,
  img: ImagePixels,
  p: DetParams & { orientation: boolean; minConfidence: number },
): Promise<OcrOutput> {
  const t0 = performance.now();
  const det = await detectText(O, s, img, p);
  const timings: OcrTimings = { detMs: det.timings.detMs, clsMs: 0, recMs: 0, totalMs: 0 };
  const flips = det.boxes.map(() => false);
  if (p.orientation && s.cls && det.boxes.length) {
    const input = clsInput(
      img,
      det.boxes.map((b) => cropFrame(b.quad)),
    );
    const [r, ms] = await timed(s.cls, { [s.cls.inputNames[0]!]: new O.Tensor('float32', input.data, input.dims) });
    timings.clsMs = ms;
    const probs = first(r).data as Float32Array;
    for (let i = 0; i < det.boxes.length; i++) flips[i] = probs[i * 2 + 1]! > 0.9;
  }
  const frames = det.boxes.map((b, i) => cropFrame(b.quad, flips[i]));
  const texts: Array<{ text: string; confidence: number }> = new Array(frames.length);
  for (const batch of recBatches(frames)) {
    const input = recInput(
      img,
      batch.map((i) => frames[i]!),
    );
    const [r, ms] = await timed(s.rec, { [s.rec.inputNames[0]!]: new O.Tensor('float32', input.data, input.dims) });
    timings.recMs += ms;
    const out = first(r);
    const [n, T, C] = out.dims as [number, number, number];
    ctcDecode(out.data as Float32Array, n, T, C, s.chars).forEach((d, k) => (texts[batch[k]!] = d));
  }
  const lines: OcrLine[] = [];
  det.boxes.forEach((b, i) => {
    const t = texts[i]!;
    if (t.text.trim() === '' || t.confidence < p.minConfidence) return;
    lines.push({ ...b, text: t.text, confidence: t.confidence, rotated: flips[i]! });
  });
  timings.totalMs = performance.now() - t0;
  return { lines, timings };
}
