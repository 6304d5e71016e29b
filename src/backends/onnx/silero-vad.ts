/**
 * @module backends/onnx/silero-vad
 * Silero VAD on raw onnxruntime: speech probability per 32 ms window, then Silero's reference
 * segmentation (get_speech_timestamps): hysteresis thresholds, minimum silence and speech
 * durations, and padding. Each 512-sample window is fed with the previous window's last 64
 * samples as context, and the recurrent state is carried from window to window.
 */
import type * as ort from 'onnxruntime-node';
import type { SpeechSegment, VadOutput, VadParams } from '../types.js';

/** Samples per window at 16 kHz. */
export const WINDOW = 512;
/** Context samples prepended to each window. */
export const CONTEXT = 64;
const RATE = 16_000;

/** Speech probability of each window of `samples` (16 kHz mono). */
export async function speechProbabilities(
  O: typeof ort,
  session: ort.InferenceSession,
  samples: Float32Array,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const windows = Math.ceil(samples.length / WINDOW);
  const probs = new Float32Array(windows);
  let state: ort.Tensor = new O.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const sr = new O.Tensor('int64', BigInt64Array.from([16000n]), []);
  const input = new Float32Array(CONTEXT + WINDOW);
  for (let w = 0; w < windows; w++) {
    if (signal?.aborted && w % 64 === 0) throw signal.reason;
    const start = w * WINDOW;
    input.fill(0);
    if (start > 0) input.set(samples.subarray(start - CONTEXT, start), 0);
    input.set(samples.subarray(start, Math.min(start + WINDOW, samples.length)), CONTEXT);
    const r = await session.run({ input: new O.Tensor('float32', input.slice(), [1, CONTEXT + WINDOW]), state, sr });
    probs[w] = (r.output as ort.Tensor).data[0] as number;
    state = r.stateN as ort.Tensor;
  }
  return probs;
}

/** Turns window probabilities into speech segments (seconds), as Silero's get_speech_timestamps. */
export function segmentSpeech(probs: Float32Array, totalSamples: number, p: VadParams): SpeechSegment[] {
  const minSilence = (p.minSilenceMs * RATE) / 1000;
  const minSpeech = (p.minSpeechMs * RATE) / 1000;
  const pad = (p.padMs * RATE) / 1000;
  const spans: Array<{ start: number; end: number }> = [];
  let triggered = false;
  let start = 0;
  let tempEnd = 0;
  for (let w = 0; w < probs.length; w++) {
    const prob = probs[w]!;
    const at = w * WINDOW;
    if (prob >= p.threshold && tempEnd) tempEnd = 0;
    if (prob >= p.threshold && !triggered) {
      triggered = true;
      start = at;
      continue;
    }
    if (prob < p.negThreshold && triggered) {
      if (!tempEnd) tempEnd = at;
      if (at - tempEnd < minSilence) continue;
      if (tempEnd - start > minSpeech) spans.push({ start, end: tempEnd });
      triggered = false;
      tempEnd = 0;
    }
  }
  if (triggered && totalSamples - start > minSpeech) spans.push({ start, end: totalSamples });
  // Pad each span, splitting the gap between neighbours that are closer than twice the padding.
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (i === 0) s.start = Math.max(0, s.start - pad);
    if (i < spans.length - 1) {
      const next = spans[i + 1]!;
      const gap = next.start - s.end;
      if (gap < 2 * pad) {
        s.end += gap / 2;
        next.start = Math.max(0, next.start - gap / 2);
      } else {
        s.end = Math.min(totalSamples, s.end + pad);
        next.start = Math.max(0, next.start - pad);
      }
    } else s.end = Math.min(totalSamples, s.end + pad);
  }
  return spans.map((s) => ({ start: Math.round((s.start / RATE) * 1000) / 1000, end: Math.round((s.end / RATE) * 1000) / 1000 }));
}

/** Runs VAD over 16 kHz mono samples. */
export async function detectSpeech(
  O: typeof ort,
  session: ort.InferenceSession,
  samples: Float32Array,
  p: VadParams,
  signal?: AbortSignal,
): Promise<VadOutput> {
  const probs = await speechProbabilities(O, session, samples, signal);
  return { segments: segmentSpeech(probs, samples.length, p), duration: samples.length / RATE };
}
