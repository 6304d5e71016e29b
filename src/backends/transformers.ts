/**
 * @module backends/transformers
 * The transformers.js backend (pipelines on onnxruntime-node). Together with
 * backends/transformers-generate.ts it is the only code that imports @huggingface/transformers.
 * It loads a pipeline for the task, then runs tokenizer + model itself so it can report token
 * usage, pool fast, and control generation (seeded sampling, stop strings, streaming, abort).
 */
import type { Device } from '../skills/schema.js';
import { probeDevice, type DeviceProbe } from './device-probe.js';
import { env, pipeline, type Tensor } from '@huggingface/transformers';
import { ServerError } from '../errors.js';
import type { Dtype, Task } from '../skills/schema.js';
import type {
  Backend,
  ClassifyOutput,
  EmbedOutput,
  InputOf,
  LoadRequest,
  ModelHandle,
  NliOutput,
  RankOutput,
  TaskInput,
  TokenClassOutput,
  ClassifiedToken,
} from './types.js';
import { generate } from './transformers-generate.js';
import { makeHandle, type TaskHandlers } from './handle.js';
import { ortTensor, singleSession, type OrtSession } from './transformers-internals.js';
import { normalizeInPlace, softmax } from '../vectors.js';
import { LazyFileCache } from './transformers-cache.js';
import { resumableFetch } from '../hub/download.js';
import { clipEmbeddings, isMediaPipelineTask, runMediaPipeline, type CallablePipeline } from './transformers-media.js';
import { TRANSFORMERS_TASKS, platformDevices } from './transformers-tasks.js';
import {
  alignTokens,
  encodeRow,
  idsToRows,
  padRows,
  rowLength,
  tokenizeTexts,
  type TokenRow,
  type TokenizerLike,
} from './transformers-tokens.js';
import { lengthGroups } from './length-groups.js';
import { sessionOptions } from './session-options.js';

/** Settings the backend applies to transformers.js once, at construction. */
export interface TransformersBackendOptions {
  /** Never contact the Hub. */
  offline: boolean;
  /** Where downloads are cached. */
  cacheDir: string;
  /** Use the download cache (default true). Tests turn it off. */
  useFsCache?: boolean;
  /** Base URL of the model hub (a mirror or proxy); default https://huggingface.co. */
  hubEndpoint?: string;
  /** Token for gated or private models (HF_TOKEN), sent to the hub endpoint only. */
  hubToken?: string | undefined;
}

/** The onnxruntime session transformers.js created (its `run` takes and returns ort tensors). */
/** What the pooling code reads from a tensor (transformers.js and onnxruntime tensors both have it). */
type TensorLike = { dims: readonly number[]; data: unknown };

type AnyPipeline = {
  tokenizer: ((texts: string | string[], opts: Record<string, unknown>) => Record<string, Tensor>) & Record<string, unknown>;
  model: ((inputs: Record<string, Tensor>) => Promise<Record<string, TensorLike>>) & {
    config: Record<string, unknown>;
    sessions?: Record<string, OrtSession>;
  };
  dispose(): Promise<void>;
};

/**
 * Runs an encoder. When the model is one onnxruntime session whose inputs the tokenizer produced
 * (BERT-like encoders: input_ids, attention_mask, token_type_ids), the session runs directly on
 * the tokenizer's tensors; transformers.js's forward adds input checks and output re-wrapping
 * per call. Any other model (extra or derived inputs, several sessions), or another
 * transformers.js release, goes through transformers.js (see transformers-internals.ts).
 */
function runEncoder(p: AnyPipeline, enc: Record<string, Tensor>): Promise<Record<string, TensorLike>> {
  const session = singleSession(p.model);
  if (!session || !session.inputNames.every((n) => enc[n] !== undefined)) return p.model(enc);
  const feeds: Record<string, unknown> = {};
  for (const n of session.inputNames) feeds[n] = ortTensor(enc[n]!);
  return session.run(feeds) as Promise<Record<string, TensorLike>>;
}

/** Tokens a row holds (its attention mask's ones; all of it when there is no mask). */
function realTokens(row: TokenRow): number {
  const mask = row.attention_mask;
  if (!mask) return rowLength(row);
  let n = 0;
  for (const v of mask) n += Number(v);
  return n;
}

/**
 * Tokenizes each text (unless given token ids), runs the model once per group of similar token
 * length (backends/length-groups.ts) and hands each group's output to `take` with the group's
 * input indices (its rows, in order); times each phase.
 */
async function forward(
  p: AnyPipeline,
  texts: string[],
  ids: number[][] | undefined,
  take: (out: Record<string, TensorLike>, enc: Record<string, Tensor>, rows: number[]) => void,
  pairs?: Array<string | undefined>,
) {
  const t0 = performance.now();
  const tok = p.tokenizer as unknown as TokenizerLike;
  const rows = ids
    ? idsToRows(tok, ids, Number(p.model.config.vocab_size ?? Number.MAX_SAFE_INTEGER))
    : texts.map((t, i) => encodeRow(p.tokenizer, t, pairs?.[i]));
  const t1 = performance.now();
  let inferenceMs = 0;
  for (const group of lengthGroups(rows.map(rowLength))) {
    const enc = padRows(rows, group, tok.pad_token_id ?? 0);
    const s = performance.now();
    const out = await runEncoder(p, enc);
    inferenceMs += performance.now() - s;
    take(out, enc, group);
  }
  const total = performance.now() - t0;
  return {
    tokens: rows.map(realTokens),
    timings: { tokenizeMs: t1 - t0, inferenceMs, postprocessMs: total - (t1 - t0) - inferenceMs },
  };
}

async function embed(p: AnyPipeline, input: Extract<TaskInput, { task: 'feature-extraction' }>): Promise<EmbedOutput> {
  const vectors = new Array<Float32Array>(input.ids?.length ?? input.texts.length);
  const done = await forward(p, input.texts, input.ids, (out, enc, rows) => {
    const hidden = out.last_hidden_state ?? out.token_embeddings ?? out.logits;
    if (!hidden || hidden.dims.length !== 3)
      throw new ServerError('inference_failed', 'model did not return token states [batch, seq, hidden]');
    const [B, S, H] = hidden.dims as [number, number, number];
    const hs = hidden.data as Float32Array;
    const mask = enc.attention_mask!.data as BigInt64Array;
    for (let b = 0; b < B; b++) {
      if (input.pooling === 'none') {
        // Every real token's vector, in order: a flat [tokens x hidden] array.
        const kept: number[] = [];
        for (let s = 0; s < S; s++) if (mask[b * S + s] !== 0n) kept.push(s);
        const v = new Float32Array(kept.length * H);
        kept.forEach((s, k) => {
          const row = v.subarray(k * H, (k + 1) * H);
          row.set(hs.subarray((b * S + s) * H, (b * S + s + 1) * H));
          if (input.normalize) normalizeInPlace(row);
        });
        vectors[rows[b]!] = v;
        continue;
      }
      const v = new Float32Array(H);
      if (input.pooling === 'cls') {
        v.set(hs.subarray(b * S * H, b * S * H + H));
      } else {
        let n = 0;
        for (let s = 0; s < S; s++) {
          if (mask[b * S + s] === 0n) continue;
          n++;
          const off = (b * S + s) * H;
          for (let h = 0; h < H; h++) v[h]! += hs[off + h]!;
        }
        const inv = 1 / Math.max(n, 1e-9);
        for (let h = 0; h < H; h++) v[h]! *= inv;
      }
      if (input.normalize) normalizeInPlace(v);
      vectors[rows[b]!] = v;
    }
  });
  return { vectors, ...done };
}

/**
 * The logits of a sequence classifier for each input (a text, or a text with its pair): one
 * row of label logits per input, in input order.
 */
async function logitRows(p: AnyPipeline, texts: string[], pairs: Array<string | undefined> | undefined) {
  const rows = new Array<number[]>(texts.length);
  const done = await forward(
    p,
    texts,
    undefined,
    (out, _enc, at) => {
      const logits = out.logits;
      if (!logits || logits.dims.length !== 2) throw new ServerError('inference_failed', 'model did not return logits [batch, labels]');
      const [B, L] = logits.dims as [number, number];
      const data = logits.data as Float32Array;
      for (let b = 0; b < B; b++) rows[at[b]!] = Array.from(data.subarray(b * L, (b + 1) * L));
    },
    pairs,
  );
  return { rows, ...done };
}

async function classify(p: AnyPipeline, input: Extract<TaskInput, { task: 'text-classification' }>): Promise<ClassifyOutput> {
  const id2label = (p.model.config.id2label ?? {}) as Record<string, string>;
  const multi = p.model.config.problem_type === 'multi_label_classification';
  const { rows, ...done } = await logitRows(p, input.texts, input.pairs);
  const labels = rows.map((row) =>
    (multi ? row.map((x) => 1 / (1 + Math.exp(-x))) : softmax(row))
      .map((score, i) => ({ label: id2label[String(i)] ?? `LABEL_${i}`, score }))
      .sort((a, b) => b.score - a.score)
      .slice(0, input.topK),
  );
  return { labels, ...done };
}

/** A cross-encoder's relevance logit for each (text, pair): the first logit of each row. */
async function rank(p: AnyPipeline, input: Extract<TaskInput, { task: 'text-ranking' }>): Promise<RankOutput> {
  const { rows, ...done } = await logitRows(p, input.texts, input.pairs);
  return { scores: rows.map((r) => r[0]!), ...done };
}

/** The [contradiction, entailment] logits of each premise-hypothesis pair, labels found as transformers.js finds them. */
async function nli(p: AnyPipeline, input: Extract<TaskInput, { task: 'zero-shot-classification' }>): Promise<NliOutput> {
  const label2id = Object.fromEntries(
    Object.entries((p.model.config.label2id ?? {}) as Record<string, number>).map(([k, v]) => [k.toLowerCase(), Number(v)]),
  );
  const entail = label2id.entailment ?? 2;
  const contra = label2id.contradiction ?? label2id.not_entailment ?? 0;
  const { rows, ...done } = await logitRows(p, input.texts, input.pairs);
  if (rows.some((r) => entail >= r.length || contra >= r.length))
    throw new ServerError('inference_failed', `the model has ${rows[0]?.length ?? 0} labels, not NLI's`);
  return { logits: rows.map((r) => [r[contra]!, r[entail]!] as [number, number]), ...done };
}

/** Every token's label probabilities (softmax over the model's id2label), with its span in the text. */
async function tokenClasses(p: AnyPipeline, input: Extract<TaskInput, { task: 'token-classification' }>): Promise<TokenClassOutput> {
  const tok = p.tokenizer as unknown as TokenizerLike;
  const id2label = (p.model.config.id2label ?? {}) as Record<string, string>;
  const aligned = input.texts.map((t) => alignTokens(tok, t, tok.encode(t, { add_special_tokens: true })));
  // WordPiece marks a word's continuation with ##; other tokenizers by the absence of a space.
  const wordPiece = tok.all_special_ids.some((id) => tok.decode([id], { skip_special_tokens: false }) === '[CLS]');
  const results = new Array<ClassifiedToken[]>(input.texts.length);
  let labels: string[] = [];
  const done = await forward(
    p,
    input.texts,
    aligned.map((a) => a.tokens.map((t) => t.id)),
    (out, enc, rows) => {
      const logits = out.logits;
      if (!logits || logits.dims.length !== 3)
        throw new ServerError('inference_failed', 'model did not return logits [batch, tokens, labels]');
      const [B, S, L] = logits.dims as [number, number, number];
      labels = Array.from({ length: L }, (_, i) => id2label[String(i)] ?? `LABEL_${i}`);
      const data = logits.data as Float32Array;
      const mask = enc.attention_mask!.data as BigInt64Array;
      for (let b = 0; b < B; b++) {
        const { tokens: toks, pieces } = aligned[rows[b]!]!;
        const list: ClassifiedToken[] = [];
        for (let s = 0; s < S && s < toks.length; s++) {
          if (mask[b * S + s] === 0n) continue;
          const probs = softmax(Array.from(data.subarray((b * S + s) * L, (b * S + s + 1) * L)));
          const t = toks[s]!;
          const piece = pieces[s]!;
          const text = input.texts[rows[b]!]!;
          const subword = wordPiece
            ? piece.startsWith('##')
            : t.start !== null && t.start > 0 && !/^\s/.test(piece) && !/\s/.test(text[t.start - 1]!);
          list.push({ word: t.text, start: t.start, end: t.stop, special: t.special, subword, probs });
        }
        results[rows[b]!] = list;
      }
    },
  );
  return { results, labels, ...done };
}

/** Network failures (fetch and socket errors), as opposed to a model that is missing or broken. */
const NETWORK_FAILURE =
  /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|socket hang up|network/i;

/** The message and its causes' messages, joined (fetch hides the socket error in `cause`). */
function fullMessage(e: unknown): string {
  const parts: string[] = [];
  for (let c = e, i = 0; c && i < 5; c = (c as { cause?: unknown }).cause, i++)
    parts.push(c instanceof Error ? `${c.message} ${(c as { code?: string }).code ?? ''}` : String(c));
  return parts.join(' ');
}

/** Maps a transformers.js / onnxruntime load failure to a catalogued error. */
function loadError(req: LoadRequest, e: unknown, hub: string): ServerError {
  const msg = e instanceof Error ? e.message : String(e);
  if (NETWORK_FAILURE.test(fullMessage(e))) {
    return new ServerError(
      'hub_unreachable',
      `could not reach the model hub at ${hub} to download "${req.source}" (${msg.split('\n')[0]}). Retry when the network is back; ` +
        'or place the model under --models-dir as org/name/ and run with --offline; or point --hub-endpoint (HF_ENDPOINT) at a reachable mirror',
      { cause: e, retryAfterMs: 30_000 },
    );
  }
  if (
    /could not locate file|not found locally|file not found|ENOENT|Unauthorized access to file|local_files_only|allowRemoteModels/i.test(
      msg,
    )
  ) {
    return new ServerError('model_not_found', `model files for "${req.source}" are missing: ${msg.split('\n')[0]}`, { cause: e });
  }
  return new ServerError('model_load_failed', `could not load "${req.source}" on ${req.device}: ${msg.split('\n')[0]}`, { cause: e });
}

/** The transformers.js backend. */
export class TransformersBackend implements Backend {
  readonly name = 'transformers.js';
  readonly tasks = TRANSFORMERS_TASKS;
  readonly devices = platformDevices();

  constructor(opts: TransformersBackendOptions) {
    // transformers.js keeps these settings in one process-wide object; this backend owns it.
    env.allowRemoteModels = !opts.offline;
    env.allowLocalModels = true;
    env.cacheDir = opts.cacheDir;
    if (opts.hubEndpoint) env.remoteHost = opts.hubEndpoint.endsWith('/') ? opts.hubEndpoint : `${opts.hubEndpoint}/`;
    // Our lazily-reading file cache replaces transformers.js's FS cache (see transformers-cache.ts).
    env.useFSCache = false;
    env.useCustomCache = true;
    const cache = new LazyFileCache(opts.useFsCache === false ? null : opts.cacheDir);
    env.customCache = cache as never;
    // Downloads resume after a dropped connection, and the token reaches mirrors too.
    env.fetch = resumableFetch({ endpoint: env.remoteHost, token: opts.hubToken, target: (url) => cache.downloadPath(url) });
  }

  /** A real session on `device` (backends/device-probe.ts). */
  probe(device: Device): Promise<DeviceProbe> {
    return probeDevice(device);
  }

  async load(req: LoadRequest): Promise<ModelHandle> {
    if (!TRANSFORMERS_TASKS.includes(req.task))
      throw new ServerError('unsupported_task', `the transformers.js backend does not serve ${req.task}`);
    const dtype: Dtype = req.dtype ?? 'fp32';
    let p: AnyPipeline | undefined;
    try {
      // A cross-encoder loads as the sequence classifier it is.
      const task = req.task === 'text-ranking' || req.task === 'zero-shot-classification' ? 'text-classification' : req.task;
      p = (await pipeline(task as 'feature-extraction', req.source, {
        device: req.device as 'cpu',
        dtype,
        revision: req.revision,
        session_options: sessionOptions(req.threads),
        progress_callback: (info: Record<string, unknown>) => {
          if (!req.onProgress) return;
          if (info.status === 'progress') req.onProgress({ phase: 'download', file: String(info.file), progress: Number(info.progress) });
          else if (info.status === 'initiate' || info.status === 'download') req.onProgress({ phase: 'download', file: String(info.file) });
          else if (info.status === 'ready') req.onProgress({ phase: 'ready', progress: 100 });
        },
      })) as unknown as AnyPipeline;
    } catch (e) {
      throw loadError(req, e, env.remoteHost);
    }
    const pipe = p!;
    const handlers: TaskHandlers = {};
    if (typeof pipe.tokenizer?.encode === 'function')
      handlers.tokenize = async (input) =>
        tokenizeTexts(pipe.tokenizer as unknown as TokenizerLike, input, Number(pipe.model?.config?.vocab_size ?? Number.MAX_SAFE_INTEGER));
    if (req.task === 'feature-extraction') handlers[req.task] = (input) => embed(pipe, input);
    else if (req.task === 'text-classification') handlers[req.task] = (input) => classify(pipe, input);
    else if (req.task === 'text-ranking') handlers[req.task] = (input) => rank(pipe, input);
    else if (req.task === 'zero-shot-classification') handlers[req.task] = (input) => nli(pipe, input);
    else if (req.task === 'token-classification') handlers[req.task] = (input) => tokenClasses(pipe, input);
    else if (isGen(req.task)) {
      // A generation model serves both generation tasks; seq2seq is what it was loaded as.
      const seq2seq = req.task === 'text2text-generation';
      handlers['text-generation'] = (input) => generate(pipe as never, input, seq2seq);
      handlers['text2text-generation'] = (input) => generate(pipe as never, input, seq2seq);
    } else if (isMediaPipelineTask(req.task)) {
      // runMediaPipeline returns each media task's own output; the table cannot see which.
      Object.assign(handlers, {
        [req.task]: (input: InputOf<typeof req.task>) => runMediaPipeline(pipe as unknown as CallablePipeline, input as never),
      });
      // A CLIP-style model also embeds images and texts in its shared space.
      if (req.task === 'zero-shot-image-classification') {
        handlers['image-embedding'] = (input) => clipEmbeddings(pipe as unknown as CallablePipeline, input);
        handlers['clip-text-embedding'] = (input) => clipEmbeddings(pipe as unknown as CallablePipeline, input);
      }
    }
    return makeHandle({
      source: req.source,
      task: req.task,
      device: req.device,
      dtype,
      handlers,
      release: async () => {
        const q = p;
        p = undefined; // drop the pipeline so its buffers can be collected
        await q?.dispose();
      },
    });
  }
}

function isGen(t: Task): boolean {
  return t === 'text-generation' || t === 'text2text-generation';
}
