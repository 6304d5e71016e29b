/**
 * @module backends/types
 * The narrow contract between the runtime (loader, executor, batcher) and model backends.
 * The runtime depends on these types only; backends implement them. Real and test backends
 * share one contract test suite (test/backends/contract.ts).
 */
import type { Device, Dtype, Task } from '../skills/schema.js';

/** What to load. `source` is an absolute local folder or a Hub id, already resolved. */
export interface LoadRequest {
  source: string;
  revision: string;
  task: Task;
  device: Device;
  dtype?: Dtype | undefined;
  /** onnxruntime intra-op threads; 0 = onnxruntime's default. */
  threads: number;
  /** Sessions to run side by side, each in its own worker thread (the worker backend; others load one). */
  replicas?: number | undefined;
  /** Files inside `source` by role, for models that are not transformers.js folders (e.g. OCR det/rec/cls). */
  files?: Readonly<Record<string, string>> | undefined;
  onProgress?: ((p: LoadProgress) => void) | undefined;
}

/** Load progress: downloads (per file) and session creation. */
export interface LoadProgress {
  phase: 'download' | 'session' | 'ready';
  file?: string;
  /** 0..100 for the file or phase, when known. */
  progress?: number;
}

/** One chat message. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One prompt of a generation batch. */
export interface GenPrompt {
  prompt?: string | undefined;
  messages?: ChatMessage[] | undefined;
}

/** Generation parameters, already validated and defaulted. */
export interface GenerationParams {
  maxNewTokens: number;
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  /** Sampling seed; the same seed and inputs give the same tokens. */
  seed?: number | undefined;
  stop: string[];
  /** Stop between tokens after this long (ms), returning what was generated. */
  maxTimeMs?: number | undefined;
}

/** Inputs per task. */
export type TaskInput =
  | MediaTaskInput
  | {
      task: 'feature-extraction';
      texts: string[];
      /** The model's own token ids, one list per input, run as given (instead of `texts`). */
      ids?: number[][] | undefined;
      /** mean or first ([CLS]) token; `none` keeps every token's vector (one flat [tokens x hidden] array per input). */
      pooling: 'mean' | 'cls' | 'none';
      normalize: boolean;
    }
  /**
   * Splits texts into the model's tokens (served by any model loaded with a tokenizer); with
   * `decode`, turns lists of token ids back into text instead.
   */
  | { task: 'tokenize'; texts: string[]; addSpecialTokens: boolean; decode?: { ids: number[][]; skipSpecialTokens: boolean } | undefined }
  /**
   * Cross-encoder relevance: each text read together with its pair (a query and a document) by a
   * one-logit sequence classifier; the raw logits come back.
   */
  | { task: 'text-ranking'; texts: string[]; pairs: string[] }
  /**
   * NLI for zero-shot classification: each premise read with its hypothesis; the contradiction
   * and entailment logits come back (found from the model's label2id, as transformers.js does).
   */
  | { task: 'zero-shot-classification'; texts: string[]; pairs: string[] }
  /** Per-token labels (named entities): every token's probabilities over the model's labels. */
  | { task: 'token-classification'; texts: string[] }
  | {
      task: 'text-classification';
      texts: string[];
      /** A second text per input, tokenized with it as a pair (segment ids), as NLI and cross-encoder models read them. */
      pairs?: Array<string | undefined> | undefined;
      topK: number;
    }
  | {
      task: 'text-generation' | 'text2text-generation';
      prompt?: string | undefined;
      messages?: ChatMessage[] | undefined;
      /**
       * Batch mode: several prompts generated together with the same parameters (greedy only, no
       * streaming). When given, `prompt`/`messages` are ignored and the output's `batch` holds
       * one result per prompt, in order.
       */
      prompts?: GenPrompt[] | undefined;
      params: GenerationParams;
      /** Called with each new piece of decoded text. */
      onText?: ((piece: string) => void) | undefined;
      /** Stops generation between tokens when aborted. */
      signal?: AbortSignal | undefined;
    };

/** Decoded pixels: interleaved RGB, 8 bits per channel, row-major. */
export interface ImagePixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

/** Decoded audio: mono float samples in [-1, 1] at 16 kHz. */
export interface AudioSamples {
  samples: Float32Array;
  sampleRate: 16000;
}

/** Inputs of the vision and audio tasks. */
export type MediaTaskInput =
  | { task: 'image-classification'; image: ImagePixels; topK: number }
  /**
   * Image-text embeddings of a CLIP-style model, in one shared space: an image's vector, or
   * texts' vectors from the same model (L2-normalised, so cosine = dot product).
   */
  | { task: 'image-embedding'; image: ImagePixels }
  | { task: 'clip-text-embedding'; texts: string[] }
  | { task: 'zero-shot-image-classification'; image: ImagePixels; labels: string[]; hypothesisTemplate: string }
  | { task: 'object-detection'; image: ImagePixels; threshold: number }
  | { task: 'text-detection'; image: ImagePixels; threshold: number; boxThreshold: number; unclipRatio: number }
  | { task: 'ocr'; image: ImagePixels; boxThreshold: number; unclipRatio: number; orientation: boolean; minConfidence: number }
  | { task: 'voice-activity-detection'; audio: AudioSamples; vad: VadParams; signal?: AbortSignal | undefined }
  | {
      /** A caption of the image by a vision encoder-decoder, greedy; each new piece goes to onText. */
      task: 'image-to-text';
      image: ImagePixels;
      maxNewTokens: number;
      onText?: ((piece: string) => void) | undefined;
      signal?: AbortSignal | undefined;
    }
  | {
      task: 'automatic-speech-recognition';
      audio: AudioSamples;
      language?: string | undefined;
      /** Whisper's task: transcribe in the spoken language, or translate to English. */
      mode: 'transcribe' | 'translate';
      timestamps: boolean;
      chunkLengthS: number;
      strideLengthS: number;
      maxNewTokens?: number | undefined;
      signal?: AbortSignal | undefined;
    };

/** Speech segmentation settings (defaults are Silero's reference values). */
export interface VadParams {
  /** Speech starts when the probability reaches this. Default 0.5. */
  threshold: number;
  /** Speech ends when the probability falls below this. Default threshold - 0.15. */
  negThreshold: number;
  /** Silence shorter than this does not end a segment (ms). Default 100. */
  minSilenceMs: number;
  /** Segments shorter than this are dropped (ms). Default 250. */
  minSpeechMs: number;
  /** Padding added on both sides of each segment (ms). Default 30. */
  padMs: number;
}

/** A quadrilateral in pixels: four [x, y] corners, clockwise from top-left. */
export type Quad = [[number, number], [number, number], [number, number], [number, number]];

/** An axis-aligned pixel box. */
export interface PixelBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** Output of image classification (plain or zero-shot): labels best first. */
export interface ImageClassifyOutput {
  labels: LabelScore[];
}

/** Output of object detection. */
export interface DetectOutput {
  objects: Array<{ label: string; score: number; box: PixelBox }>;
}

/** A detected text region. */
export interface TextBox {
  /** The region's corners (a rotated rectangle for rotated text). */
  quad: Quad;
  /** Its axis-aligned bounds. */
  box: PixelBox;
  /** Mean text probability inside the region. */
  score: number;
}

/** Output of text detection. */
export interface TextDetectOutput {
  boxes: TextBox[];
  timings: OcrTimings;
}

/** One recognised line. */
export interface OcrLine extends TextBox {
  text: string;
  /** Mean per-character probability of the decoded text. */
  confidence: number;
  /** Whether the orientation classifier turned the crop 180 degrees. */
  rotated: boolean;
}

/** Session time per OCR stage (ms), for benchmarks and metrics. */
export interface OcrTimings {
  detMs: number;
  clsMs: number;
  recMs: number;
  totalMs: number;
}

/** Output of OCR: lines in reading order. */
export interface OcrOutput {
  lines: OcrLine[];
  timings: OcrTimings;
}

/** A span of speech in seconds. */
export interface SpeechSegment {
  start: number;
  end: number;
}

/** Output of voice activity detection. */
export interface VadOutput {
  segments: SpeechSegment[];
  /** Seconds of audio analysed. */
  duration: number;
}

/** Output of speech recognition. */
export interface TranscribeOutput {
  text: string;
  /** Timestamped pieces, when timestamps were asked for. */
  chunks: Array<{ text: string; start: number | null; end: number | null }>;
}

/** An image's caption. */
export interface CaptionOutput {
  text: string;
  /** Tokens generated (after the decoder's start token). */
  tokens: number;
}

/** Time spent per phase of one backend call (ms). */
export interface PhaseTimings {
  tokenizeMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

/** Output of feature extraction: one vector per text and the tokens each used. */
export interface EmbedOutput {
  vectors: Float32Array[];
  tokens: number[];
  timings?: PhaseTimings;
}

/** A label and its probability. */
export interface LabelScore {
  label: string;
  score: number;
}

/** Output of text classification: top labels per text, best first. */
/** One token of a token classification: its text, span in the input, and label probabilities. */
export interface ClassifiedToken {
  word: string;
  start: number | null;
  end: number | null;
  special: boolean;
  /** Whether it continues the previous token's word (WordPiece ##, or no space before it). */
  subword: boolean;
  probs: number[];
}

/** Per input text, its tokens with label probabilities; `labels` names the probabilities' order. */
export interface TokenClassOutput {
  results: ClassifiedToken[][];
  labels: string[];
  tokens: number[];
  timings?: PhaseTimings;
}

/** [contradiction, entailment] logits per premise-hypothesis pair, in input order. */
export interface NliOutput {
  logits: Array<[number, number]>;
  tokens: number[];
  timings?: PhaseTimings;
}

/** One relevance logit per pair, in input order. */
export interface RankOutput {
  scores: number[];
  tokens: number[];
  timings?: PhaseTimings;
}

export interface ClassifyOutput {
  labels: LabelScore[][];
  tokens: number[];
  timings?: PhaseTimings;
}

/** Why generation ended. */
export type FinishReason = 'stop' | 'length' | 'stop_sequence' | 'max_time' | 'cancelled';

/** Output of generation. */
export interface GenerateOutput {
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
  promptTokens: number;
  /** Batch mode: one result per prompt (the top-level fields repeat the first). */
  batch?: GenerateOutput[];
}

/** One token: its id, its text, whether it is a special token, and its character span in the input when known. */
export interface Token {
  id: number;
  text: string;
  special: boolean;
  /** Offsets in the input text (UTF-16 code units); null for special tokens or where the text could not be aligned. */
  start: number | null;
  stop: number | null;
}

/** Output of tokenize: the tokens of each text. */
export interface TokenizeOutput {
  tokens: Token[][];
  /** The decoded texts, for a `decode` request. */
  texts?: string[] | undefined;
}

/** Output type per task. */
export interface TaskOutputs {
  'feature-extraction': EmbedOutput;
  tokenize: TokenizeOutput;
  'text-classification': ClassifyOutput;
  'text-ranking': RankOutput;
  'zero-shot-classification': NliOutput;
  'token-classification': TokenClassOutput;
  'text-generation': GenerateOutput;
  'text2text-generation': GenerateOutput;
  'image-classification': ImageClassifyOutput;
  'zero-shot-image-classification': ImageClassifyOutput;
  'image-embedding': EmbedOutput;
  'clip-text-embedding': EmbedOutput;
  'object-detection': DetectOutput;
  'text-detection': TextDetectOutput;
  ocr: OcrOutput;
  'voice-activity-detection': VadOutput;
  'automatic-speech-recognition': TranscribeOutput;
  'image-to-text': CaptionOutput;
}

/** The output type for a given input. */
export type TaskOutput<I extends TaskInput = TaskInput> = TaskOutputs[I['task']];

/** The input of one task (a generation input serves both generation tasks). */
export type InputOf<T extends TaskInput['task']> = TaskInput extends infer U
  ? U extends { task: infer K }
    ? T extends K
      ? U
      : never
    : never
  : never;

/** Named inputs per task. */
export type EmbedInput = InputOf<'feature-extraction'>;
export type ClassifyInput = InputOf<'text-classification'>;
export type RankInput = InputOf<'text-ranking'>;
export type NliInput = InputOf<'zero-shot-classification'>;
export type TokenClassInput = InputOf<'token-classification'>;
export type TokenizeInput = InputOf<'tokenize'>;
export type GenerateInput = InputOf<'text-generation'>;
export type ImageClassifyInput = InputOf<'image-classification'>;
export type ZeroShotImageInput = InputOf<'zero-shot-image-classification'>;
export type DetectInput = InputOf<'object-detection'>;
export type TextDetectInput = InputOf<'text-detection'>;
export type OcrInput = InputOf<'ocr'>;
export type VadInput = InputOf<'voice-activity-detection'>;
export type TranscribeInput = InputOf<'automatic-speech-recognition'>;
export type CaptionInput = InputOf<'image-to-text'>;

/** A loaded model. */
export interface ModelHandle {
  readonly task: Task;
  readonly device: Device;
  readonly dtype: Dtype;
  run<I extends TaskInput>(input: I): Promise<TaskOutput<I>>;
  /** Releases the onnxruntime sessions. */
  dispose(): Promise<void>;
}

/** A model backend. */
export interface Backend {
  readonly name: string;
  /** Tasks this backend can load. */
  readonly tasks: readonly Task[];
  /** Devices this backend can run on in this process (cpu is always one). */
  readonly devices: readonly Device[];
  load(req: LoadRequest): Promise<ModelHandle>;
  /** Whether `device` really runs a session here (a backend without the check is taken at its word). */
  probe?(device: Device): Promise<{ ok: boolean; reason?: string; fix?: string }>;
}
