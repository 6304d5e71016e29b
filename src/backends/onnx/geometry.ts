/**
 * @module backends/onnx/geometry
 * The plane geometry of DB text detection, written out (no OpenCV in Node): connected regions
 * of a thresholded map, convex hulls, minimum-area rectangles (rotating calipers), the DB
 * "unclip" expansion, corner ordering, and reading order. Pure functions over typed arrays.
 */
import type { PixelBox, Quad } from '../types.js';

export type Point = [number, number];

/** A connected region of a bitmap: its pixel count and, per row, the leftmost and rightmost pixel. */
export interface Region {
  pixels: number;
  /** Row-extreme points at pixel corners (enough for the convex hull). */
  points: Point[];
}

/**
 * Labels 8-connected regions of `bitmap` (1 = on) and returns each region's row extremes.
 * Regions with fewer than `minPixels` pixels are skipped. Iterative (no recursion depth limit).
 */
export function connectedRegions(bitmap: Uint8Array, width: number, height: number, minPixels = 1, maxRegions = 1000): Region[] {
  const seen = new Uint8Array(bitmap.length);
  const stack = new Int32Array(bitmap.length);
  const regions: Region[] = [];
  const rowMin = new Int32Array(height);
  const rowMax = new Int32Array(height);
  for (let start = 0; start < bitmap.length && regions.length < maxRegions; start++) {
    if (!bitmap[start] || seen[start]) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let pixels = 0;
    let yMin = height;
    let yMax = -1;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / width) | 0;
      const x = p - y * width;
      pixels++;
      if (y < yMin) {
        for (let r = y; r < (yMin === height ? y + 1 : yMin); r++) {
          rowMin[r] = width;
          rowMax[r] = -1;
        }
        yMin = y;
      }
      if (y > yMax) {
        for (let r = Math.max(yMax + 1, yMin); r <= y; r++) {
          rowMin[r] = width;
          rowMax[r] = -1;
        }
        yMax = y;
      }
      if (x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const q = ny * width + nx;
          if (bitmap[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    if (pixels < minPixels) continue;
    const points: Point[] = [];
    for (let r = yMin; r <= yMax; r++) {
      if (rowMax[r]! < 0) continue;
      points.push([rowMin[r]!, r], [rowMax[r]! + 1, r], [rowMin[r]!, r + 1], [rowMax[r]! + 1, r + 1]);
    }
    regions.push({ pixels, points });
  }
  return regions;
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in image coordinates' math sense. */
export function convexHull(points: Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length <= 2) return p;
  const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const pt of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, pt) <= 0) lower.pop();
    lower.push(pt);
  }
  const upper: Point[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const pt = p[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, pt) <= 0) upper.pop();
    upper.push(pt);
  }
  upper.pop();
  lower.pop();
  return lower.concat(upper);
}

/** A rotated rectangle: centre, side lengths, and the unit vectors of its sides. */
export interface RotatedRect {
  cx: number;
  cy: number;
  /** Length along `u`. */
  w: number;
  /** Length along `v`. */
  h: number;
  u: Point;
  v: Point;
}

/** The minimum-area enclosing rectangle of a convex hull (one of its sides lies on a hull edge). */
export function minAreaRect(hull: Point[]): RotatedRect {
  if (hull.length === 1) return { cx: hull[0]![0], cy: hull[0]![1], w: 0, h: 0, u: [1, 0], v: [0, 1] };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const u: Point = [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
    const v: Point = [-u[1], u[0]];
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const pu = p[0] * u[0] + p[1] * u[1];
      const pv = p[0] * v[0] + p[1] * v[1];
      if (pu < minU) minU = pu;
      if (pu > maxU) maxU = pu;
      if (pv < minV) minV = pv;
      if (pv > maxV) maxV = pv;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * u[0] + cv * v[0], cy: cu * u[1] + cv * v[1], w: maxU - minU, h: maxV - minV, u, v };
    }
  }
  return best!;
}

/** The rectangle's four corners. */
export function rectCorners(r: RotatedRect): Point[] {
  const hw = r.w / 2;
  const hh = r.h / 2;
  return [
    [r.cx - hw * r.u[0] - hh * r.v[0], r.cy - hw * r.u[1] - hh * r.v[1]],
    [r.cx + hw * r.u[0] - hh * r.v[0], r.cy + hw * r.u[1] - hh * r.v[1]],
    [r.cx + hw * r.u[0] + hh * r.v[0], r.cy + hw * r.u[1] + hh * r.v[1]],
    [r.cx - hw * r.u[0] + hh * r.v[0], r.cy - hw * r.u[1] + hh * r.v[1]],
  ];
}

/**
 * DB's unclip: grows the rectangle by d = area * ratio / perimeter on every side (the
 * shrunk text kernel the model predicts back to the full text extent).
 */
export function unclip(r: RotatedRect, ratio: number): RotatedRect {
  const perimeter = 2 * (r.w + r.h);
  const d = perimeter > 0 ? (r.w * r.h * ratio) / perimeter : 0;
  return { ...r, w: r.w + 2 * d, h: r.h + 2 * d };
}

/** Orders four corners as top-left, top-right, bottom-right, bottom-left (PaddleOCR's rule). */
export function orderQuad(pts: Point[]): Quad {
  const byX = [...pts].sort((a, b) => a[0] - b[0]);
  const [l1, l2] = [byX[0]!, byX[1]!].sort((a, b) => a[1] - b[1]);
  const [r1, r2] = [byX[2]!, byX[3]!].sort((a, b) => a[1] - b[1]);
  return [l1!, r1!, r2!, l2!];
}

/** Mean of `map` over the pixels whose centres lie inside the convex quad. */
export function meanInside(map: Float32Array, width: number, height: number, quad: Point[]): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    const py = y + 0.5;
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5;
      let pos = 0;
      let neg = 0;
      for (let i = 0; i < 4; i++) {
        const a = quad[i]!;
        const b = quad[(i + 1) % 4]!;
        const c = (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0]);
        if (c > 0) pos++;
        else if (c < 0) neg++;
      }
      if (pos === 0 || neg === 0) {
        sum += map[y * width + x]!;
        n++;
      }
    }
  }
  return n ? sum / n : 0;
}

/** Axis-aligned bounds of a quad, rounded outwards and clipped to the image. */
export function quadBounds(q: Quad, width: number, height: number): PixelBox {
  const xs = q.map((p) => p[0]);
  const ys = q.map((p) => p[1]);
  return {
    xmin: Math.max(0, Math.floor(Math.min(...xs))),
    ymin: Math.max(0, Math.floor(Math.min(...ys))),
    xmax: Math.min(width, Math.ceil(Math.max(...xs))),
    ymax: Math.min(height, Math.ceil(Math.max(...ys))),
  };
}

/** Sorts quads into reading order: top to bottom, and left to right within a line (10 px tolerance). */
export function readingOrder<T extends { quad: Quad }>(items: T[]): T[] {
  const out = [...items].sort((a, b) => a.quad[0][1] - b.quad[0][1] || a.quad[0][0] - b.quad[0][0]);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = out[j]!;
      const b = out[j + 1]!;
      if (Math.abs(b.quad[0][1] - a.quad[0][1]) < 10 && b.quad[0][0] < a.quad[0][0]) {
        out[j] = b;
        out[j + 1] = a;
      } else break;
    }
  }
  return out;
}
