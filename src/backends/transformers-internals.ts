/**
 * @module backends/transformers-internals
 * Every use of transformers.js beyond its documented API, in one place, behind a version check.
 * They serve the hot paths: running a model's single onnxruntime session directly (encoders and
 * the lean decode loop skip transformers.js's per-call input checks and re-wrapping), reaching a
 * Tensor's onnxruntime tensor, and left padding for batched generation. They were checked against
 * transformers.js {@link CHECKED_VERSION}; with another major.minor the fast paths are off and
 * everything goes through the public pipeline and generate() (slower, same results), and
 * `internalsUsable()` says why.
 */
import { Tensor, env } from '@huggingface/transformers';

/** The transformers.js release (major.minor) these internals were checked against. */
export const CHECKED_VERSION = '4.3';

/** An onnxruntime session as transformers.js holds it (`model.sessions.<name>`). */
export interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: ReadonlyArray<{ name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }>;
  outputMetadata?: ReadonlyArray<{ name: string; isTensor: boolean; type?: string }>;
  run(feeds: Record<string, unknown>): Promise<Record<string, { dims: readonly number[]; data: unknown }>>;
}

/** Whether the installed transformers.js is the checked release; `version` is for tests. */
export function internalsUsable(version: string = env.version): boolean {
  return version.startsWith(`${CHECKED_VERSION}.`);
}

/** The model's one onnxruntime session, when it has exactly one and the internals are usable. */
export function singleSession(model: { sessions?: Record<string, OrtSession> }, version?: string): OrtSession | undefined {
  if (!internalsUsable(version)) return undefined;
  const sessions = model.sessions;
  const session = sessions?.model;
  return session && Object.keys(sessions).length === 1 ? session : undefined;
}

/** The onnxruntime tensor inside a transformers.js Tensor. */
export function ortTensor(t: Tensor): unknown {
  return (t as unknown as { ort_tensor: unknown }).ort_tensor;
}

/** An int64 onnxruntime tensor, made through transformers.js's Tensor (same onnxruntime build). */
export function int64Tensor(values: readonly bigint[], dims: number[]): unknown {
  return ortTensor(new Tensor('int64', BigInt64Array.from(values), dims));
}

/** An empty float32 onnxruntime tensor of `dims` (a first step's past key/values). */
export function emptyFloatTensor(dims: number[]): unknown {
  return ortTensor(new Tensor('float32', new Float32Array(0), dims));
}

/**
 * Runs `fn` with the tokenizer padding on the left (decoder-only batches line up their last
 * prompt tokens), then restores the side: the tokenizer is shared by every request on the model.
 */
export function withLeftPadding<T>(tokenizer: object, fn: () => T): T {
  const t = tokenizer as { padding_side?: string };
  const before = t.padding_side;
  t.padding_side = 'left';
  try {
    return fn();
  } finally {
    t.padding_side = before;
  }
}
