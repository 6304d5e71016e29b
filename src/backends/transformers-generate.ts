/**
 * @module backends/transformers-generate
 * Text generation on a transformers.js model: prompt or chat template, per-request seeded
 * sampling (transformers.js samples from one process-wide RNG, so concurrent seeded requests
 * would not be reproducible; we sample in a logits processor with the request's own RNG and
 * let the greedy step pick that token), stop strings, abort between tokens, and streaming of
 * each new piece of text.
 *
 * Decoder-only models exported as one session with a plain KV cache (inputs input_ids,
 * attention_mask, optional position_ids and past_key_values.*; outputs logits and present.*)
 * are decoded by a lean loop over that session, like the raw onnxruntime reference: per token,
 * transformers.js's generate() adds input preparation, tensor re-wrapping and logits slicing
 * that a small model's step feels. Everything else (seq2seq, merged decoders, batched prompts)
 * goes through generate().
 */
import { LogitsProcessor, StoppingCriteria, Tensor, TextStreamer } from '@huggingface/transformers';
import { ServerError } from '../errors.js';
import { mulberry32 } from '../prng.js';
import type { FinishReason, GenerateOutput, TaskInput } from './types.js';
import { emptyFloatTensor, int64Tensor, singleSession, withLeftPadding, type OrtSession } from './transformers-internals.js';

type GenInput = Extract<TaskInput, { task: 'text-generation' | 'text2text-generation' }>;

interface Tokenizer {
  (text: string | string[], opts?: Record<string, unknown>): Record<string, Tensor>;
  apply_chat_template(messages: unknown[], opts: Record<string, unknown>): unknown;
  decode(ids: number[] | bigint[], opts?: Record<string, unknown>): string;
  chat_template?: unknown;
  eos_token_id?: number;
}

interface GenPipeline {
  tokenizer: Tokenizer;
  model: {
    generate(opts: Record<string, unknown>): Promise<Tensor>;
    generation_config?: { eos_token_id?: number | number[] } | null;
    config: Record<string, unknown>;
    sessions?: Record<string, OrtSession>;
  };
}

/** A decoder session the lean loop can drive, with its cache layout. */
interface LeanDecoder {
  session: OrtSession;
  /** past_key_values.* input name -> present.* output name. */
  cache: Array<[string, string]>;
  heads: number;
  headDim: number;
  positions: boolean;
}

/** The lean loop's view of the model, or undefined when generate() must run it. */
function leanDecoder(p: GenPipeline): LeanDecoder | undefined {
  const session = singleSession(p.model);
  if (!session || !session.inputMetadata || !session.outputMetadata) return undefined;
  const plain = new Set(['input_ids', 'attention_mask', 'position_ids']);
  const past = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  if (past.length === 0 || !session.inputNames.includes('input_ids') || !session.inputNames.includes('attention_mask')) return undefined;
  if (!session.inputNames.every((n) => plain.has(n) || n.startsWith('past_key_values.'))) return undefined;
  const cache: Array<[string, string]> = [];
  for (const n of past) {
    const present = n.replace('past_key_values.', 'present.');
    if (!session.outputNames.includes(present)) return undefined;
    cache.push([n, present]);
  }
  const meta = session.inputMetadata.find((m) => m.name === past[0]);
  const logits = session.outputMetadata.find((m) => m.name === 'logits');
  const [, heads, , headDim] = meta?.shape ?? [];
  if (meta?.type !== 'float32' || logits?.type !== 'float32' || typeof heads !== 'number' || typeof headDim !== 'number') return undefined;
  return { session, cache, heads, headDim, positions: session.inputNames.includes('position_ids') };
}

const int64 = int64Tensor;

/**
 * Decodes one prompt with a KV cache: greedy, or the seeded sampler's pick. Stops at EOS, after
 * `maxNew` tokens, or when `stop` says so (abort, time, stop strings); streams each token.
 * Returns the new token ids (EOS included when it ended there, as generate() does).
 */
async function leanGenerate(
  p: GenPipeline,
  d: LeanDecoder,
  prompt: bigint[],
  maxNew: number,
  stop: StopCriteria,
  sampler: SeededSampler | undefined,
  streamer: TextStreamer | undefined,
): Promise<number[]> {
  const eos = eosIds(p);
  let past: Record<string, unknown> = {};
  for (const [name] of d.cache) past[name] = emptyFloatTensor([1, d.heads, 0, d.headDim]);
  const all = [...prompt];
  const out: number[] = [];
  streamer?.put([all]);
  let input = prompt;
  while (out.length < maxNew) {
    const total = all.length;
    const feeds: Record<string, unknown> = {
      input_ids: int64(input, [1, input.length]),
      attention_mask: int64(new Array<bigint>(total).fill(1n), [1, total]),
      ...past,
    };
    if (d.positions)
      feeds.position_ids = int64(
        input.map((_, i) => BigInt(total - input.length + i)),
        [1, input.length],
      );
    const r = await d.session.run(feeds);
    const logits = r.logits!;
    const vocab = logits.dims.at(-1)!;
    let row = (logits.data as Float32Array).subarray((input.length - 1) * vocab, input.length * vocab);
    if (sampler) row = sampler._call([], new Tensor('float32', row.slice(), [1, vocab])).data as Float32Array;
    let best = 0;
    for (let i = 1; i < vocab; i++) if (row[i]! > row[best]!) best = i;
    const next = BigInt(best);
    out.push(best);
    all.push(next);
    streamer?.put([[next]]);
    if (eos.has(best) || stop._call([all])[0]) break;
    past = {};
    for (const [name, present] of d.cache) past[name] = r[present];
    input = [next];
  }
  streamer?.end();
  return out;
}

/** Samples one token per row with temperature / top-k / top-p, then masks all others. */
class SeededSampler extends LogitsProcessor {
  private readonly next: () => number;
  constructor(private readonly p: { temperature: number; topK: number; topP: number; seed: number }) {
    super();
    this.next = mulberry32(p.seed);
  }

  override _call(_ids: bigint[][], logits: Tensor): Tensor {
    const [rows, vocab] = logits.dims as [number, number];
    const data = logits.data as Float32Array;
    for (let r = 0; r < rows; r++) {
      const row = data.subarray(r * vocab, (r + 1) * vocab);
      const idx = Array.from({ length: vocab }, (_, i) => i).filter((i) => Number.isFinite(row[i]!));
      idx.sort((a, b) => row[b]! - row[a]!);
      const k = this.p.topK > 0 ? Math.min(this.p.topK, idx.length) : idx.length;
      const cand = idx.slice(0, k);
      const t = Math.max(this.p.temperature, 1e-5);
      const max = row[cand[0]!]!;
      let probs = cand.map((i) => Math.exp((row[i]! - max) / t));
      let sum = probs.reduce((a, b) => a + b, 0);
      probs = probs.map((x) => x / sum);
      if (this.p.topP < 1) {
        let acc = 0;
        let cut = probs.length;
        for (let i = 0; i < probs.length; i++) {
          acc += probs[i]!;
          if (acc >= this.p.topP) {
            cut = i + 1;
            break;
          }
        }
        probs = probs.slice(0, cut);
        sum = probs.reduce((a, b) => a + b, 0);
        probs = probs.map((x) => x / sum);
      }
      let u = this.next();
      let pick = cand[probs.length - 1]!;
      for (let i = 0; i < probs.length; i++) {
        u -= probs[i]!;
        if (u <= 0) {
          pick = cand[i]!;
          break;
        }
      }
      row.fill(-Infinity);
      row[pick] = 0;
    }
    return logits;
  }
}

/** Stops on abort, or when the generated text contains a stop string. */
class StopCriteria extends StoppingCriteria {
  stoppedBy: 'abort' | 'stop' | 'time' | null = null;
  private readonly deadline: number;
  constructor(
    private readonly tok: Tokenizer,
    private readonly promptLen: number,
    private readonly stops: string[],
    private readonly signal: AbortSignal | undefined,
    maxTimeMs?: number,
  ) {
    super();
    this.deadline = maxTimeMs ? performance.now() + maxTimeMs : Infinity;
  }

  override _call(ids: Array<Array<number | bigint>>): boolean[] {
    if (this.signal?.aborted) {
      this.stoppedBy = 'abort';
      return ids.map(() => true);
    }
    if (performance.now() >= this.deadline) {
      this.stoppedBy = 'time';
      return ids.map(() => true);
    }
    if (this.stops.length === 0) return ids.map(() => false);
    return ids.map((row) => {
      const text = this.tok.decode(row.slice(this.promptLen).map(Number), { skip_special_tokens: true });
      const hit = this.stops.some((s) => text.includes(s));
      if (hit) this.stoppedBy = 'stop';
      return hit;
    });
  }
}

function eosIds(p: GenPipeline): Set<number> {
  const e =
    p.model.generation_config?.eos_token_id ?? (p.model.config.eos_token_id as number | number[] | undefined) ?? p.tokenizer.eos_token_id;
  return new Set((Array.isArray(e) ? e : e === undefined ? [] : [e]).map(Number));
}

/**
 * The most positions a decoder-only model attends over (prompt plus new tokens), from its config
 * or its tokenizer; undefined when neither states one. Past it, a learned position table has no
 * row and the run fails partway, so prompts are checked and new tokens clamped against it.
 */
export function contextLength(p: GenPipeline): number | undefined {
  const c = p.model.config;
  for (const k of ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_sequence_length']) {
    const v = Number(c[k]);
    if (Number.isInteger(v) && v > 0) return v;
  }
  const t = Number((p.tokenizer as unknown as { model_max_length?: number }).model_max_length);
  return Number.isInteger(t) && t > 0 && t < 1e7 ? t : undefined;
}

/**
 * New tokens a prompt of `promptTokens` may get: the request's maximum, clamped to the room the
 * context leaves (generation then ends with finish_reason `length`). A prompt that fills the
 * context is refused with `input_too_large`, the caller's error, before any compute.
 */
function roomFor(p: GenPipeline, promptTokens: number, maxNewTokens: number, seq2seq: boolean): number {
  const ctx = seq2seq ? undefined : contextLength(p);
  if (ctx === undefined) return maxNewTokens;
  if (promptTokens >= ctx) {
    throw new ServerError(
      'input_too_large',
      `the prompt is ${promptTokens} tokens; this model's context holds ${ctx} tokens (prompt and new tokens together); shorten it`,
    );
  }
  return Math.min(maxNewTokens, ctx - promptTokens);
}

/** Trims a row's new tokens at EOS and stop strings, decodes it, and says why it ended. */
function finish(
  p: GenPipeline,
  newIds: number[],
  params: GenInput['params'],
  promptTokens: number,
  stoppedBy: StopCriteria['stoppedBy'],
): GenerateOutput {
  const eos = eosIds(p);
  let tokenIds = newIds;
  const eosAt = tokenIds.findIndex((t) => eos.has(t));
  if (eosAt >= 0) tokenIds = tokenIds.slice(0, eosAt);
  let finishReason: FinishReason =
    eosAt >= 0 ? 'stop' : stoppedBy === 'time' ? 'max_time' : tokenIds.length >= params.maxNewTokens ? 'length' : 'stop';
  let text = p.tokenizer.decode(tokenIds, { skip_special_tokens: true });
  if (stoppedBy === 'abort') finishReason = 'cancelled';
  else if (params.stop.length > 0) {
    const cuts = params.stop.map((s) => text.indexOf(s)).filter((i) => i >= 0);
    if (cuts.length > 0) {
      text = text.slice(0, Math.min(...cuts));
      finishReason = 'stop_sequence';
    }
  }
  return { text, tokenIds, finishReason, promptTokens };
}

function requireTemplate(p: GenPipeline): void {
  if (!p.tokenizer.chat_template)
    throw new ServerError('invalid_input', 'this model has no chat template; send `prompt` instead of `messages`');
}

/** Runs one generation request, or a batch of greedy prompts (`input.prompts`). */
export async function generate(p: GenPipeline, input: GenInput, seq2seq: boolean): Promise<GenerateOutput> {
  if (input.prompts && input.prompts.length > 0) return generateBatch(p, input, seq2seq);
  let enc: Record<string, Tensor>;
  if (input.messages) {
    requireTemplate(p);
    enc = p.tokenizer.apply_chat_template(input.messages, { add_generation_prompt: true, return_dict: true }) as Record<string, Tensor>;
  } else {
    enc = p.tokenizer(input.prompt ?? '');
  }
  const promptTokens = enc.input_ids!.dims[1] as number;
  const params = { ...input.params, maxNewTokens: roomFor(p, promptTokens, input.params.maxNewTokens, seq2seq) };
  // Decoder-only outputs start with the prompt; seq2seq outputs start with the decoder start token.
  const skip = seq2seq ? 1 : promptTokens;
  const stop = new StopCriteria(p.tokenizer, skip, params.stop, input.signal, params.maxTimeMs);
  const streamer = input.onText
    ? new TextStreamer(p.tokenizer as never, { skip_prompt: true, skip_special_tokens: true, callback_function: input.onText })
    : undefined;
  const seed = params.seed ?? Math.floor(Math.random() * 2 ** 31);
  const sampler = params.doSample
    ? new SeededSampler({ temperature: params.temperature, topK: params.topK, topP: params.topP, seed })
    : undefined;
  const lean = seq2seq ? undefined : leanDecoder(p);
  const mask = enc.attention_mask?.data as BigInt64Array | undefined;
  if (lean && enc.input_ids!.dims[0] === 1 && promptTokens > 0 && (!mask || mask.every((x) => x === 1n))) {
    const ids = await leanGenerate(p, lean, Array.from(enc.input_ids!.data as BigInt64Array), params.maxNewTokens, stop, sampler, streamer);
    return finish(p, ids, params, promptTokens, stop.stoppedBy);
  }
  const out = await p.model.generate({
    ...enc,
    max_new_tokens: params.maxNewTokens,
    do_sample: false,
    ...(sampler ? { logits_processor: [sampler] } : {}),
    stopping_criteria: [stop],
    ...(streamer ? { streamer } : {}),
  });
  const row = (out.tolist() as bigint[][])[0]!.map(Number);
  return finish(p, row.slice(skip), params, promptTokens, stop.stoppedBy);
}

/**
 * Greedy generation for several prompts at once: left-padded (decoder-only) so every row's
 * last prompt token lines up, one generate call, then each row trimmed on its own.
 */
async function generateBatch(p: GenPipeline, input: GenInput, seq2seq: boolean): Promise<GenerateOutput> {
  const prompts = input.prompts!;
  const chat = prompts.some((x) => x.messages);
  if (chat) requireTemplate(p);
  const texts = prompts.map((x) =>
    x.messages
      ? (p.tokenizer.apply_chat_template(x.messages, { add_generation_prompt: true, tokenize: false }) as string)
      : (x.prompt ?? ''),
  );
  // Chat templates already contain their special tokens.
  const tokenize = () => p.tokenizer(texts, { padding: true, add_special_tokens: !chat });
  const enc = seq2seq ? tokenize() : withLeftPadding(p.tokenizer, tokenize);
  const [rows, width] = enc.input_ids!.dims as [number, number];
  const mask = enc.attention_mask!.data as BigInt64Array;
  const params = { ...input.params, maxNewTokens: roomFor(p, width, input.params.maxNewTokens, seq2seq) };
  const skip = seq2seq ? 1 : width;
  const stop = new StopCriteria(p.tokenizer, skip, params.stop, input.signal, params.maxTimeMs);
  const out = await p.model.generate({ ...enc, max_new_tokens: params.maxNewTokens, do_sample: false, stopping_criteria: [stop] });
  const seqs = out.tolist() as bigint[][];
  const batch = seqs.map((row, r) => {
    let promptTokens = 0;
    for (let c = 0; c < width; c++) promptTokens += Number(mask[r * width + c]);
    return finish(p, row.map(Number).slice(skip), params, promptTokens, stop.stoppedBy);
  });
  if (batch.length !== rows) throw new ServerError('internal', `generated ${batch.length} rows for ${rows} prompts`);
  return { ...batch[0]!, batch };
}
