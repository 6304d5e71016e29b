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
  | { task: 'feature-extraction'; texts: string[]; pooling: 'mean' | 'cls'; normalize: boolean }
  | { task: 'text-classification'; texts: string[]; topK: number }
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

/** The output type for a given input. */
export type TaskOutput<I extends TaskInput = TaskInput> = I extends { task: 'feature-extraction' }
  ? EmbedOutput
  : I extends { task: 'text-classification' }
    ? ClassifyOutput
    : GenerateOutput;

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
}
