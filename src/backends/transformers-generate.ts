/**
 * @module backends/transformers-generate
 * Text generation on a transformers.js model: prompt or chat template, per-request seeded
 * sampling (transformers.js samples from one process-wide RNG, so concurrent seeded requests
 * would not be reproducible; we sample in a logits processor with the request's own RNG and
 * let the greedy step pick that token), stop strings, abort between tokens, and streaming of
 * each new piece of text.
 */
import { LogitsProcessor, StoppingCriteria, TextStreamer, type Tensor } from '@huggingface/transformers';
import { ServerError } from '../errors.js';
import { mulberry32 } from '../vectors.js';
import type { FinishReason, GenerateOutput, TaskInput } from './types.js';

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
  };
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
  const e = p.model.generation_config?.eos_token_id ?? (p.model.config.eos_token_id as number | number[] | undefined) ?? p.tokenizer.eos_token_id;
  return new Set((Array.isArray(e) ? e : e === undefined ? [] : [e]).map(Number));
}

/** Trims a row's new tokens at EOS and stop strings, decodes it, and says why it ended. */
function finish(p: GenPipeline, newIds: number[], params: GenInput['params'], promptTokens: number, stoppedBy: StopCriteria['stoppedBy']): GenerateOutput {
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
  if (!p.tokenizer.chat_template) throw new ServerError('invalid_input', 'this model has no chat template; send `prompt` instead of `messages`');
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
  const params = input.params;
  // Decoder-only outputs start with the prompt; seq2seq outputs start with the decoder start token.
  const skip = seq2seq ? 1 : promptTokens;
  const stop = new StopCriteria(p.tokenizer, skip, params.stop, input.signal, params.maxTimeMs);
  const streamer = input.onText
    ? new TextStreamer(p.tokenizer as never, { skip_prompt: true, skip_special_tokens: true, callback_function: input.onText })
    : undefined;
  const seed = params.seed ?? Math.floor(Math.random() * 2 ** 31);
  const out = await p.model.generate({
    ...enc,
    max_new_tokens: params.maxNewTokens,
    do_sample: false,
    ...(params.doSample ? { logits_processor: [new SeededSampler({ temperature: params.temperature, topK: params.topK, topP: params.topP, seed })] } : {}),
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
  const texts = prompts.map((x) => (x.messages ? (p.tokenizer.apply_chat_template(x.messages, { add_generation_prompt: true, tokenize: false }) as string) : (x.prompt ?? '')));
  if (!seq2seq) (p.tokenizer as unknown as { padding_side: string }).padding_side = 'left';
  // Chat templates already contain their special tokens.
  const enc = p.tokenizer(texts, { padding: true, add_special_tokens: !chat });
  const [rows, width] = enc.input_ids!.dims as [number, number];
  const mask = enc.attention_mask!.data as BigInt64Array;
  const params = input.params;
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
