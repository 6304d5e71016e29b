/**
 * @module tasks/detect-speech
 * `detect_speech`: where people speak in a recording, as [start, end] spans in seconds, from
 * Silero VAD with its reference segmentation (hysteresis thresholds, minimum silence and
 * speech durations, padding).
 */
import { z } from 'zod';
import type { VadParams } from '../backends/types.js';
import { VAD_DEFAULTS } from '../backends/onnx/tasks.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, modelField, modelsFor, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { withAudio, audioFields, inlineMedia } from './media.js';

export function detectSpeechTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['voice-activity-detection']);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'detect_speech',
    title: 'Find speech in audio',
    description: 'Find where someone speaks in an audio file (voice activity detection): spans in seconds.',
    inputSchema: {
      ...audioFields,
      threshold: z
        .number()
        .min(0.05)
        .max(0.95)
        .default(VAD_DEFAULTS.threshold)
        .describe('Speech probability that starts a span; lower finds quieter speech.'),
      min_silence_ms: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(VAD_DEFAULTS.minSilenceMs)
        .describe('Pauses shorter than this do not split a span (ms).'),
      min_speech_ms: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(VAD_DEFAULTS.minSpeechMs)
        .describe('Spans shorter than this are dropped (ms).'),
      pad_ms: z.number().int().min(0).max(2000).default(VAD_DEFAULTS.padMs).describe('Padding added to both ends of each span (ms).'),
      model: modelField(models, 'Speech detection model.'),
    },
    outputSchema: {
      model: z.string(),
      duration: z.number(),
      speech_seconds: z.number(),
      segments: z.array(z.object({ start: z.number(), end: z.number() })),
    },
    annotations: { title: 'Find speech in audio', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, ['voice-activity-detection']);
      return args;
    },
    cacheable: (args) => inlineMedia(args.audio, args.audio_base64),
    handler: (args, ctx) => {
      const vad: VadParams = {
        threshold: args.threshold,
        negThreshold: Math.max(0.01, args.threshold - 0.15),
        minSilenceMs: args.min_silence_ms,
        minSpeechMs: args.min_speech_ms,
        padMs: args.pad_ms,
      };
      return withAudio(args, deps, ctx, async (audio) => {
        const out = await deps.executor.run(args.model, { task: 'voice-activity-detection', audio, vad, signal: ctx.signal }, ctx.run);
        const speech = out.segments.reduce((a, s) => a + s.end - s.start, 0);
        return {
          model: args.model,
          duration: Math.round(out.duration * 1000) / 1000,
          speech_seconds: Math.round(speech * 1000) / 1000,
          segments: out.segments,
        };
      });
    },
  });
}
