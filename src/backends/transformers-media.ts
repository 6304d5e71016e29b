/**
 * @module backends/transformers-media
 * Vision and audio tasks on transformers.js pipelines: image classification (ViT and the like),
 * zero-shot image classification (CLIP), object detection (DETR), image captions (vision
 * encoder-decoders, streamed) and speech recognition (Whisper, with chunking, timestamps, language
 * and task). Inputs arrive decoded (RGB pixels, 16 kHz mono
 * samples), so the pipelines never read files or URLs themselves.
 */
import { InterruptableStoppingCriteria, RawImage, TextStreamer } from '@huggingface/transformers';
import { ServerError, echo } from '../errors.js';
import { MEDIA_PIPELINE_TASKS } from './transformers-tasks.js';
import type {
  CaptionOutput,
  DetectOutput,
  ImageClassifyOutput,
  ImagePixels,
  MediaTaskInput,
  TaskInput,
  TranscribeOutput,
} from './types.js';

/** A pipeline called as a function (its signature differs per task). */
export type CallablePipeline = ((input: unknown, ...args: unknown[]) => Promise<unknown>) & { model: { config: Record<string, unknown> } };

export function isMediaPipelineTask(task: string): task is (typeof MEDIA_PIPELINE_TASKS)[number] {
  return (MEDIA_PIPELINE_TASKS as readonly string[]).includes(task);
}

function raw(img: ImagePixels): RawImage {
  return new RawImage(img.data as Uint8ClampedArray<ArrayBuffer> & Uint8Array, img.width, img.height, img.channels);
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const r2 = (x: number) => Math.round(x * 100) / 100;

type LS = Array<{ label: string; score: number }>;

/** What the CLIP embedding runs need of a zero-shot image pipeline: its model, processor and tokenizer. */
type ClipPipeline = {
  model: (inputs: Record<string, unknown>) => Promise<Record<string, { data: Float32Array; dims: number[] }>>;
  processor: (images: RawImage[]) => Promise<{ pixel_values: { dims: number[] } & Record<string, unknown> }>;
  tokenizer: (texts: string[], o: Record<string, unknown>) => Record<string, unknown>;
};

/**
 * Embeddings in a CLIP model's shared image-text space. The ONNX graph takes both towers' inputs
 * at once, so the tower not asked for gets a minimal input (one empty text, one blank image), and
 * its output is ignored.
 */
export async function clipEmbeddings(
  p: CallablePipeline,
  input: { task: 'image-embedding'; image: ImagePixels } | { task: 'clip-text-embedding'; texts: string[] },
): Promise<{ vectors: Float32Array[]; tokens: number[] }> {
  const clip = p as unknown as ClipPipeline;
  const blank: ImagePixels = { data: new Uint8Array(32 * 32 * 3).fill(255), width: 32, height: 32, channels: 3 };
  const image = input.task === 'image-embedding' ? input.image : blank;
  const { pixel_values } = await clip.processor([raw(image)]);
  const texts = input.task === 'clip-text-embedding' ? input.texts : [''];
  const text = clip.tokenizer(texts, { padding: 'max_length', truncation: true });
  const out = await clip.model({ ...text, pixel_values });
  const which = input.task === 'image-embedding' ? out.image_embeds : out.text_embeds;
  if (!which || which.dims.length !== 2) throw new ServerError('inference_failed', 'the model did not return image and text embeddings');
  const [n, d] = which.dims as [number, number];
  const vectors = Array.from({ length: n }, (_, i) => {
    const v = Float32Array.from(which.data.subarray(i * d, (i + 1) * d));
    let s = 0;
    for (const x of v) s += x * x;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < d; k++) v[k]! *= inv;
    return v;
  });
  const mask = (text as { attention_mask?: { data: BigInt64Array } }).attention_mask?.data;
  const L = texts.length > 0 && mask ? mask.length / texts.length : 0;
  const tokens =
    input.task === 'clip-text-embedding' && mask
      ? texts.map((_, i) => mask.subarray(i * L, (i + 1) * L).reduce((a, b) => a + Number(b), 0))
      : [0];
  return { vectors, tokens };
}

/** Runs a vision or audio input on its pipeline. */
export async function runMediaPipeline(p: CallablePipeline, input: Extract<TaskInput, MediaTaskInput>): Promise<unknown> {
  switch (input.task) {
    case 'image-classification': {
      const out = (await p(raw(input.image), { top_k: input.topK })) as LS;
      return { labels: out.map((o) => ({ label: o.label, score: r4(o.score) })) } satisfies ImageClassifyOutput;
    }
    case 'zero-shot-image-classification': {
      const out = (await p(raw(input.image), input.labels, { hypothesis_template: input.hypothesisTemplate })) as LS;
      return { labels: out.map((o) => ({ label: o.label, score: r4(o.score) })) } satisfies ImageClassifyOutput;
    }
    case 'object-detection': {
      const out = (await p(raw(input.image), { threshold: input.threshold, percentage: false })) as Array<{
        label: string;
        score: number;
        box: Record<'xmin' | 'ymin' | 'xmax' | 'ymax', number>;
      }>;
      const { width: W, height: H } = input.image;
      const clampBox = (b: Record<'xmin' | 'ymin' | 'xmax' | 'ymax', number>) => ({
        xmin: r2(Math.min(Math.max(b.xmin, 0), W)),
        ymin: r2(Math.min(Math.max(b.ymin, 0), H)),
        xmax: r2(Math.min(Math.max(b.xmax, 0), W)),
        ymax: r2(Math.min(Math.max(b.ymax, 0), H)),
      });
      return {
        objects: out.map((o) => ({ label: o.label, score: r4(o.score), box: clampBox(o.box) })).sort((a, b) => b.score - a.score),
      } satisfies DetectOutput;
    }
    case 'image-to-text': {
      // Greedy, as the pipeline does by default; a cancelled call stops at the next token.
      const tokenizer = (p as unknown as { tokenizer: ConstructorParameters<typeof TextStreamer>[0] }).tokenizer;
      let tokens = 0;
      const streamer = new TextStreamer(tokenizer, {
        skip_prompt: true,
        skip_special_tokens: true,
        callback_function: (piece: string) => piece && input.onText?.(piece),
        token_callback_function: () => void tokens++,
      });
      const stop = new InterruptableStoppingCriteria();
      const interrupt = () => stop.interrupt();
      input.signal?.addEventListener('abort', interrupt, { once: true });
      try {
        const out = (await p(raw(input.image), {
          max_new_tokens: input.maxNewTokens,
          do_sample: false,
          streamer,
          stopping_criteria: [stop],
        })) as Array<{ generated_text: string }>;
        return { text: out[0]?.generated_text ?? '', tokens } satisfies CaptionOutput;
      } finally {
        input.signal?.removeEventListener('abort', interrupt);
      }
    }
    case 'automatic-speech-recognition': {
      const opts: Record<string, unknown> = {
        return_timestamps: input.timestamps,
        chunk_length_s: input.chunkLengthS,
        stride_length_s: input.strideLengthS,
        task: input.mode,
        ...(input.language ? { language: input.language } : {}),
        ...(input.maxNewTokens ? { max_new_tokens: input.maxNewTokens } : {}),
      };
      let out: { text: string; chunks?: Array<{ text: string; timestamp: [number | null, number | null] }> };
      try {
        out = (await p(input.audio.samples, opts)) as typeof out;
      } catch (e) {
        const msg = (e as Error).message;
        if (/language/i.test(msg) && input.language)
          throw new ServerError('invalid_input', `language ${echo(input.language)} is not supported by this model: ${msg}`);
        throw e;
      }
      return {
        text: out.text.trim(),
        chunks: (out.chunks ?? []).map((c) => ({
          text: c.text.trim(),
          start: c.timestamp[0] === null ? null : r2(c.timestamp[0]),
          end: c.timestamp[1] === null ? null : r2(c.timestamp[1]),
        })),
      } satisfies TranscribeOutput;
    }
    default:
      throw new ServerError('unsupported_task', `the transformers.js backend does not serve ${input.task}`);
  }
}
