/**
 * @module runtime/executor
 * Runs task requests. Each model and task has its own queue (a Batcher): embeddings and
 * classifications are split into one unit per text and batched dynamically with other requests
 * that share the same parameters; generation requests queue one per batch. Every batch runs
 * under a global limit of inference slots (p-limit), so one busy model never blocks the others
 * beyond its share. A request holds a loader lease from admission until it finishes, so its
 * model cannot be evicted while its work is queued or running.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type {
  ClassifyInput,
  ClassifyOutput,
  NliInput,
  NliOutput,
  RankInput,
  RankOutput,
  EmbedInput,
  GenerateInput,
  EmbedOutput,
  LabelScore,
  LoadProgress,
  MediaTaskInput,
  ModelHandle,
  TaskInput,
  TaskOutput,
  TokenClassInput,
  TokenizeInput,
  TokenizeOutput,
} from '../backends/types.js';
import { ServerError } from '../errors.js';
import type { Registry } from '../skills/registry.js';
import type { Task } from '../skills/schema.js';
import { Batcher, type BatcherOptions, type Priority } from './batcher.js';
import type { ModelLoader } from './loader.js';
import type { Breakers } from '../resilience/breaker.js';
import type { RuntimeMetrics } from './metrics.js';

/** Per-request options. */
export interface RunOptions {
  signal?: AbortSignal | undefined;
  priority?: Priority | undefined;
  /** Who asks, for a fair share of each model's queue. */
  client?: string | undefined;
  onLoadProgress?: ((p: LoadProgress) => void) | undefined;
}

/** Executor settings. */
export interface ExecutorOptions {
  /** Inference calls running at once, all models. */
  maxConcurrency: number;
  /** Queued units per model and task. */
  maxQueue: number;
  /** Queued units one client may hold per model and task (default: maxQueue). */
  maxQueuePerClient?: number;
  /** Batches of one model running at once (default 1). */
  batchConcurrency?: number;
  /** Batches of one text encoder (embeddings, classification) running at once; default `batchConcurrency`. */
  textBatchConcurrency?: number;
  /** Requests per minute per model; 0 or undefined = unlimited. */
  modelRateLimit?: number;
  /** Circuit breakers per model. */
  breakers?: Breakers | undefined;
  metrics?: RuntimeMetrics | undefined;
}

type GenInput = GenerateInput;
/** One text of a request, with the request's parameters (every unit of a batch shares them). */
/** One text of a request (or, for token-id input, one list of ids). */
type TextUnit = { text: string; pair?: string | undefined; ids?: number[] | undefined; handle: ModelHandle; input: TextInput };
type TextInput = EmbedInput | ClassifyInput | RankInput | NliInput;
type TextResult = { vector?: Float32Array; labels?: LabelScore[]; score?: number; nli?: [number, number]; tokens: number };
type GenUnit = { input: GenInput; handle: ModelHandle };
type MediaInput = Extract<TaskInput, MediaTaskInput> | TokenizeInput | TokenClassInput | ClipInput;
type ClipInput = Extract<TaskInput, { task: 'image-embedding' | 'clip-text-embedding' }>;
/** One vision or audio request (or a tokenization): it runs alone (its own batch), but queues like every other. */
type MediaUnit = { input: MediaInput; handle: ModelHandle };

/**
 * Which queue each task goes to: texts are split into units and batched with other requests'
 * texts; generation requests queue whole (greedy ones may share a batch); a vision or audio
 * request runs alone.
 */
const QUEUE_OF: Record<TaskInput['task'], 'text' | 'generation' | 'media'> = {
  'feature-extraction': 'text',
  'text-classification': 'text',
  'text-ranking': 'text',
  'zero-shot-classification': 'text',
  // Whole texts with per-token results: each request runs as its own batch.
  'token-classification': 'media',
  'image-embedding': 'media',
  'clip-text-embedding': 'media',
  tokenize: 'media',
  'text-generation': 'generation',
  'text2text-generation': 'generation',
  'image-classification': 'media',
  'zero-shot-image-classification': 'media',
  'object-detection': 'media',
  'text-detection': 'media',
  ocr: 'media',
  'voice-activity-detection': 'media',
  'automatic-speech-recognition': 'media',
  'image-to-text': 'media',
};

/** Rough token estimate for batching budgets (about 4 characters per token, plus specials). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + 2;
}

/** Executes requests with dynamic batching, priorities, backpressure and cancellation. */
export class Executor {
  private readonly slots: LimitFunction;
  private readonly textQueues = new Map<string, Batcher<TextUnit, TextResult>>();
  private readonly genQueues = new Map<string, Batcher<GenUnit, TaskOutput<GenInput>>>();
  private readonly mediaQueues = new Map<string, Batcher<MediaUnit, TaskOutput<MediaInput>>>();

  constructor(
    private readonly loader: ModelLoader,
    private readonly registry: Registry,
    private readonly o: ExecutorOptions,
  ) {
    this.slots = pLimit(o.maxConcurrency);
    if (o.modelRateLimit) this.modelLimiter = new RateLimiterMemory({ points: o.modelRateLimit, duration: 60 });
  }

  private readonly modelLimiter: RateLimiterMemory | undefined;
  private soloKeys = 0;

  /**
   * Which generation requests may share a batch: greedy, not streamed, same parameters and the
   * same kind of input (chat or plain). Sampled or streamed requests get a key of their own.
   */
  private genKey(input: GenInput): string {
    if (input.params.doSample || input.onText) return `solo:${this.soloKeys++}`;
    return JSON.stringify([
      input.task,
      input.messages ? 'chat' : 'plain',
      input.params.maxNewTokens,
      input.params.stop,
      input.params.maxTimeMs ?? null,
    ]);
  }

  /** Counts a request against its model's rate limit; throws a retryable rate_limited error past it. */
  private async checkRate(model: string): Promise<void> {
    if (!this.modelLimiter) return;
    try {
      await this.modelLimiter.consume(model);
    } catch (r) {
      if (!(r instanceof RateLimiterRes)) throw r;
      throw new ServerError(
        'rate_limited',
        `model "${model}" is limited to ${this.o.modelRateLimit} requests per minute; retry in ${Math.ceil(r.msBeforeNext / 1000)} s`,
        {
          retryAfterMs: r.msBeforeNext,
        },
      );
    }
  }

  /**
   * Forgets a model's queues after its skill changed or went away: new requests get queues with
   * the current batch settings; the old queues finish what they hold.
   */
  forget(model: string): void {
    for (const queues of [this.textQueues, this.genQueues, this.mediaQueues] as Array<Map<string, unknown>>)
      for (const id of [...queues.keys()]) if (id.startsWith(`${model}\u0000`)) queues.delete(id);
  }

  /** Queued units across all queues. */
  get depth(): number {
    let n = 0;
    for (const q of this.textQueues.values()) n += q.depth;
    for (const q of this.genQueues.values()) n += q.depth;
    for (const q of this.mediaQueues.values()) n += q.depth;
    return n;
  }

  private batchLimits(model: string) {
    const b = this.registry.get(model)?.skill.batch;
    return { maxBatchSize: b?.max_batch_size ?? 32, maxBatchTokens: b?.max_batch_tokens ?? 16_384, maxWaitMs: b?.max_wait_ms ?? 2 };
  }

  /**
   * The queue `id` in `queues`, created on first use with the executor's queue bound, batch
   * concurrency and metrics hooks; `spec` (called only then) gives its batch limits and runner.
   */
  private queue<U, R>(
    queues: Map<string, Batcher<U, R>>,
    id: string,
    model: string,
    spec: () => Pick<BatcherOptions<U, R>, 'maxBatchSize' | 'maxBatchTokens' | 'maxWaitMs' | 'tokens' | 'run' | 'maxConcurrentBatches'>,
  ): Batcher<U, R> {
    let q = queues.get(id);
    if (!q) {
      const m = this.o.metrics;
      q = new Batcher<U, R>({
        maxConcurrentBatches: this.o.batchConcurrency ?? 1,
        ...spec(),
        maxQueue: this.o.maxQueue,
        maxQueuePerClient: this.o.maxQueuePerClient ?? this.o.maxQueue,
        onBatch: (b) => m?.observeBatch(model, b.size, b.waitsMs),
        onDepth: (d) => m?.setDepth(id, d),
      });
      queues.set(id, q);
    }
    return q;
  }

  private textQueue(model: string, task: Task): Batcher<TextUnit, TextResult> {
    return this.queue(this.textQueues, `${model}\u0000${task}`, model, () => ({
      ...this.batchLimits(model),
      maxConcurrentBatches: this.o.textBatchConcurrency ?? this.o.batchConcurrency ?? 1,
      tokens: (u: TextUnit) => (u.ids ? u.ids.length : estimateTokens(u.text) + (u.pair ? estimateTokens(u.pair) : 0)),
      run: (_key: string, units: TextUnit[]) => this.slots(() => runTextBatch(units, model, this.o.metrics)),
    }));
  }

  private genQueue(model: string): Batcher<GenUnit, TaskOutput<GenInput>> {
    return this.queue(this.genQueues, `${model}\u0000gen`, model, () => ({
      ...this.batchLimits(model),
      tokens: (u: GenUnit) =>
        estimateTokens(u.input.prompt ?? u.input.messages?.map((x) => x.content).join(' ') ?? '') + u.input.params.maxNewTokens,
      run: (_key: string, units: GenUnit[]) => this.slots(() => runGenBatch(units)),
    }));
  }

  /** Media requests run one at a time (no batching across images or recordings). */
  private mediaQueue(model: string, task: TaskInput['task']): Batcher<MediaUnit, TaskOutput<MediaInput>> {
    return this.queue(this.mediaQueues, `${model}\u0000${task}`, model, () => ({
      maxBatchSize: 1,
      maxBatchTokens: Number.MAX_SAFE_INTEGER,
      maxWaitMs: 0,
      tokens: () => 1,
      run: (_key: string, units: MediaUnit[]) => this.slots(async () => [await units[0]!.handle.run(units[0]!.input)]),
    }));
  }

  /** Runs `input` on the model of skill `model` (through its circuit breaker). */
  async run<I extends TaskInput>(model: string, input: I, opts: RunOptions = {}): Promise<TaskOutput<I>> {
    if (opts.signal?.aborted) throw new ServerError('cancelled', 'request cancelled by the client');
    await this.checkRate(model);
    const b = this.o.breakers;
    return b ? b.run(model, () => this.runInner(model, input, opts)) : this.runInner(model, input, opts);
  }

  private async runInner<I extends TaskInput>(model: string, input: I, opts: RunOptions): Promise<TaskOutput<I>> {
    // Tokenizing is served by the model as loaded for its skill's own task, and CLIP embeddings by
    // the model as loaded for zero-shot image classification.
    const task =
      input.task === 'tokenize'
        ? (this.registry.get(model)?.skill.tasks[0] ?? 'feature-extraction')
        : input.task === 'image-embedding' || input.task === 'clip-text-embedding'
          ? 'zero-shot-image-classification'
          : input.task;
    const lease = await this.loader.acquire(model, task, opts.onLoadProgress, opts.signal);
    try {
      const { out, used } = await this.dispatch(model, input, lease.handle, opts);
      // Requests are counted once per call by the task layer; tokens are known only here.
      this.o.metrics?.observeTokens(model, used);
      // The table routes by task, so the output is this input's; TypeScript cannot follow a lookup.
      return out as TaskOutput<I>;
    } finally {
      lease.release();
    }
  }

  /** Queues `input` on its task's queue (QUEUE_OF) and returns the output and the tokens processed. */
  private async dispatch(
    model: string,
    input: TaskInput,
    handle: ModelHandle,
    opts: RunOptions,
  ): Promise<{ out: TaskOutput; used: number }> {
    const queued = { priority: opts.priority, signal: opts.signal, client: opts.client };
    switch (QUEUE_OF[input.task]) {
      case 'text': {
        const params = input as TextInput;
        const ids = params.task === 'feature-extraction' ? params.ids : undefined;
        // Token-id input batches only with token-id input.
        const key =
          params.task === 'feature-extraction'
            ? `${ids ? 'ids|' : ''}${params.pooling}|${params.normalize}`
            : params.task === 'text-ranking' || params.task === 'zero-shot-classification'
              ? params.task
              : `${params.topK}`;
        const pairs = params.task === 'feature-extraction' ? undefined : params.pairs;
        const units = ids
          ? ids.map((list) => ({ text: '', ids: list, handle, input: params }))
          : params.texts.map((text, i) => ({ text, pair: pairs?.[i], handle, input: params }));
        const results = await this.textQueue(model, params.task).submit(units, key, queued);
        const tokens = results.map((r) => r.tokens);
        const used = tokens.reduce((a, b) => a + b, 0);
        if (params.task === 'feature-extraction')
          return { out: { vectors: results.map((r) => r.vector!), tokens } satisfies EmbedOutput, used };
        if (params.task === 'text-ranking') return { out: { scores: results.map((r) => r.score!), tokens } satisfies RankOutput, used };
        if (params.task === 'zero-shot-classification')
          return { out: { logits: results.map((r) => r.nli!), tokens } satisfies NliOutput, used };
        return { out: { labels: results.map((r) => r.labels!), tokens } satisfies ClassifyOutput, used };
      }
      case 'generation': {
        const gen = input as GenInput;
        const [res] = await this.genQueue(model).submit([{ input: gen, handle }], this.genKey(gen), queued);
        return { out: res!, used: res!.promptTokens + res!.tokenIds.length };
      }
      case 'media': {
        const [res] = await this.mediaQueue(model, input.task).submit([{ input: input as MediaInput, handle }], 'media', queued);
        const used = input.task === 'tokenize' ? (res as TokenizeOutput).tokens.reduce((a, t) => a + t.length, 0) : 0;
        return { out: res!, used };
      }
    }
  }
}

/** Runs generation units: one request as is, or several as one batched call. */
async function runGenBatch(units: GenUnit[]): Promise<Array<TaskOutput<GenInput>>> {
  if (units.length === 1) return [await units[0]!.handle.run(units[0]!.input)];
  const first = units[0]!.input;
  const out = await units[0]!.handle.run({
    task: first.task,
    params: first.params,
    prompts: units.map((u) => ({ prompt: u.input.prompt, messages: u.input.messages })),
  });
  if (!out.batch || out.batch.length !== units.length)
    throw new ServerError('internal', 'batched generation returned the wrong number of results');
  return out.batch;
}

/** Runs one batch of texts that share their parameters (the batch key) on one model. */
async function runTextBatch(units: TextUnit[], model: string, m: RuntimeMetrics | undefined): Promise<TextResult[]> {
  const handle = units[0]!.handle;
  const params = units[0]!.input;
  const texts = units.map((u) => u.text);
  if (params.task === 'feature-extraction') {
    const ids = units[0]!.ids ? units.map((u) => u.ids!) : undefined;
    const out = await handle.run({ ...params, texts, ids });
    if (out.timings) m?.observePhases(model, out.timings);
    return out.vectors.map((vector, i) => ({ vector, tokens: out.tokens[i]! }));
  }
  if (params.task === 'zero-shot-classification') {
    const out = await handle.run({ task: 'zero-shot-classification', texts, pairs: units.map((u) => u.pair ?? '') });
    if (out.timings) m?.observePhases(model, out.timings);
    return out.logits.map((nli, i) => ({ nli, tokens: out.tokens[i]! }));
  }
  if (params.task === 'text-ranking') {
    const out = await handle.run({ task: 'text-ranking', texts, pairs: units.map((u) => u.pair ?? '') });
    if (out.timings) m?.observePhases(model, out.timings);
    return out.scores.map((score, i) => ({ score, tokens: out.tokens[i]! }));
  }
  const pairs = units.some((u) => u.pair !== undefined) ? units.map((u) => u.pair) : undefined;
  const out = await handle.run({ ...params, texts, pairs });
  if (out.timings) m?.observePhases(model, out.timings);
  return out.labels.map((labels, i) => ({ labels, tokens: out.tokens[i]! }));
}
