/**
 * @module tasks/transcribe
 * `transcribe`: speech to text with Whisper-family models. Long audio is cut into overlapping
 * windows (chunk_length_s, stride_length_s) and stitched; segments carry timestamps; `language`
 * and `task` (transcribe | translate to English) pass through. With `vad`, Silero VAD finds the
 * speech first and only those spans are transcribed (silence is skipped, not hallucinated over).
 */
import { z } from 'zod';
import type { SpeechSegment, TranscribeOutput } from '../backends/types.js';
import { ServerError } from '../errors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, modelField, modelsFor, nullableNumber, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { withAudio, audioFields, inlineMedia } from './media.js';
import { VAD_DEFAULTS } from '../backends/onnx/tasks.js';

/** Speech spans closer than this are transcribed together (s). */
const MERGE_GAP_S = 1;

/** Groups speech segments into pieces of at most `maxS` seconds, merging short gaps. */
export function groupSegments(segments: SpeechSegment[], maxS: number): SpeechSegment[] {
  const out: SpeechSegment[] = [];
  for (const s of segments) {
    const last = out.at(-1);
    if (last && s.start - last.end < MERGE_GAP_S && s.end - last.start <= maxS) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

export function transcribeTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['automatic-speech-recognition']);
  if (models.length === 0) return undefined;
  const vadModels = modelsFor(deps.registry, ['voice-activity-detection']);
  return defineTask({
    name: 'transcribe',
    title: 'Transcribe speech',
    description:
      'Transcribe speech in an audio file (or translate it to English) with timestamped segments; long audio is chunked, `vad` skips silence.',
    inputSchema: {
      ...audioFields,
      language: z
        .string()
        .regex(/^[a-z]{2,3}$|^[a-z]+$/i)
        .optional()
        .describe('Spoken language (en, de, french...); default: detected.'),
      task: z
        .enum(['transcribe', 'translate'])
        .default('transcribe')
        .describe('transcribe in the spoken language, or translate to English.'),
      timestamps: z.boolean().default(true).describe('Return timestamped segments.'),
      chunk_length_s: z.number().min(1).max(30).default(30).describe('Window length for long audio, seconds.'),
      stride_length_s: z.number().min(0).max(10).default(5).describe('Overlap between windows on each side, seconds.'),
      vad: z
        .boolean()
        .default(false)
        .describe(
          `Detect speech first and transcribe only the spoken spans${vadModels.length ? '' : ' (needs a speech-detection skill; none is installed)'}.`,
        ),
      max_new_tokens: z.number().int().min(1).max(448).optional().describe('Token limit per window.'),
      model: modelField(models, 'Speech recognition model.'),
    },
    outputSchema: {
      model: z.string(),
      text: z.string(),
      duration: z.number(),
      segments: z.array(
        z.object({
          text: z.string(),
          start: nullableNumber('Seconds from the start.'),
          end: nullableNumber('Seconds; null if the model did not close it.'),
        }),
      ),
      speech: z.array(z.object({ start: z.number(), end: z.number() })).optional(),
    },
    annotations: { title: 'Transcribe speech', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, ['automatic-speech-recognition']);
      if (args.vad && vadModels.length === 0)
        throw new ServerError('invalid_input', 'vad needs a voice-activity-detection skill, and none is installed');
      if (args.stride_length_s * 2 >= args.chunk_length_s)
        throw new ServerError('invalid_input', 'stride_length_s must be less than half of chunk_length_s');
      return args;
    },
    cacheable: (args) => inlineMedia(args.audio, args.audio_base64),
    handler: (args, ctx) =>
      withAudio(args, deps, ctx, async (audio) => {
        const signal = ctx.signal;
        const run = ctx.run;
        const asr = (samples: Float32Array) =>
          deps.executor.run(
            args.model,
            {
              task: 'automatic-speech-recognition',
              audio: { samples, sampleRate: 16000 },
              language: args.language,
              mode: args.task,
              timestamps: args.timestamps,
              chunkLengthS: args.chunk_length_s,
              strideLengthS: args.stride_length_s,
              maxNewTokens: args.max_new_tokens,
              signal,
            },
            run,
          );
        const head = { model: args.model, duration: round(audio.duration) };
        if (!args.vad) {
          const out = await asr(audio.samples);
          return { ...head, text: out.text, segments: segments(out, 0, audio.duration) };
        }
        const vad = await deps.executor.run(vadModels[0]!, { task: 'voice-activity-detection', audio, vad: VAD_DEFAULTS, signal }, run);
        const pieces = groupSegments(vad.segments, args.chunk_length_s);
        const texts: string[] = [];
        const all: ReturnType<typeof segments> = [];
        for (const p of pieces) {
          const out = await asr(audio.samples.subarray(Math.floor(p.start * 16000), Math.ceil(p.end * 16000)));
          if (out.text) texts.push(out.text);
          all.push(...segments(out, p.start, p.end - p.start));
        }
        return { ...head, text: texts.join(' '), segments: all, speech: vad.segments };
      }),
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Segments shifted by `offset` seconds; timestamps past the piece's `length` (a model can overrun) are clamped. */
function segments(out: TranscribeOutput, offset: number, length: number) {
  const at = (t: number | null) => (t === null ? null : round(offset + Math.min(Math.max(t, 0), length)));
  return out.chunks.filter((c) => c.text !== '').map((c) => ({ text: c.text, start: at(c.start), end: at(c.end) }));
}
