import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const p = process.argv[2] + '/onnx/model.onnx';
const rss = () => Math.round(process.memoryUsage().rss / 1e6);
const mode = process.argv[3];
console.log('start', rss());
for (let i = 0; i < 3; i++) {
  const opts = { intraOpNumThreads: 1, ...(mode === 'noarena' ? { enableCpuMemArena: false } : {}) };
  let s = mode === 'buffer' ? await ort.InferenceSession.create(readFileSync(p), opts) : await ort.InferenceSession.create(p, opts);
  console.log('loaded', rss());
  await s.release(); s = null;
  global.gc(); await new Promise((r) => setTimeout(r, 200));
  console.log('released', rss());
}
