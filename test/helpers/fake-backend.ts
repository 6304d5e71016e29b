/**
 * A deterministic in-process backend for runtime tests: embeddings are a hash of the text,
 * classification ranks fixed labels, generation counts tokens. Calls can be delayed (real or
 * fake timers), made to fail, and are recorded, so tests can see batches and parameters.
 * It passes the same contract suite as the transformers.js backend.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerError } from '../../src/errors.js';
import type { Backend, LoadRequest, ModelHandle, TaskInput, TaskOutput } from '../../src/backends/types.js';
import type { Device, Task } from '../../src/skills/schema.js';

export interface FakeCall {
  source: string;
  task: Task;
  input: TaskInput;
}

export interface FakeBackendOptions {
  dims?: number;
  /** ms per run call (setTimeout, so fake timers control it). */
  runDelayMs?: number;
  /** ms per load. */
  loadDelayMs?: number;
  /** Sources whose load fails with model_load_failed. */
  failLoad?: Set<string>;
  /** Texts that make a run fail with inference_failed. */
  poison?: string;
  devices?: Device[];
  /** Devices on which session creation fails (model_load_failed), to exercise fallback. */
  failDevices?: Set<Device>;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** A deterministic vector for `text`, seeded by `source`. */
export function fakeVector(source: string, text: string, dims: number): Float32Array {
  let h = 2166136261;
  for (const c of `${source}\u0000${text}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    v[i] = (h / 2 ** 32) * 2 - 1;
  }
  return v;
}

export class FakeBackend implements Backend {
  readonly name = 'fake';
  readonly tasks: readonly Task[] = ['feature-extraction', 'text-classification', 'text-generation', 'text2text-generation'];
  readonly devices: readonly Device[];
  readonly calls: FakeCall[] = [];
  /** The fake tokenizer's vocabulary: word i has id i + 2 (0 and 1 are [CLS] and [SEP]). */
  readonly vocab: string[] = [];

  wordId(word: string): number {
    let i = this.vocab.indexOf(word);
    if (i < 0) i = this.vocab.push(word) - 1;
    return i + 2;
  }
  readonly loads: string[] = [];
  /** Every load request, in order. */
  readonly requests: LoadRequest[] = [];
  readonly disposed: string[] = [];
  loaded = 0;
  maxLoaded = 0;

  constructor(private readonly o: FakeBackendOptions = {}) {
    this.devices = o.devices ?? ['cpu'];
  }

  async load(req: LoadRequest): Promise<ModelHandle> {
    if (!this.tasks.includes(req.task)) throw new ServerError('unsupported_task', `fake backend does not serve ${req.task}`);
    await sleep(this.o.loadDelayMs ?? 0);
    if (this.o.failDevices?.has(req.device)) throw new ServerError('model_load_failed', `no ${req.device} session for ${req.source}`);
    if (this.o.failLoad?.has(req.source)) throw new ServerError('model_load_failed', `cannot load ${req.source}`);
    this.loads.push(`${req.source}@${req.device}`);
    this.requests.push(req);
    this.loaded++;
    this.maxLoaded = Math.max(this.maxLoaded, this.loaded);
    const dims = this.o.dims ?? 8;
    let disposed = false;
    return {
      task: req.task,
      device: req.device,
      dtype: req.dtype ?? 'fp32',
      run: async <I extends TaskInput>(input: I): Promise<TaskOutput<I>> => {
        if (disposed) throw new ServerError('internal', 'run after dispose');
        this.calls.push({ source: req.source, task: req.task, input });
        await sleep(this.o.runDelayMs ?? 0);
        if (input.task === 'feature-extraction' || input.task === 'text-classification') {
          if (this.o.poison && input.texts.includes(this.o.poison)) throw new ServerError('inference_failed', 'poisoned input');
        }
        if (input.task === 'tokenize') {
          const tokens = input.texts.map((text) => {
            let at = 0;
            const words = text
              .split(/\s+/)
              .filter(Boolean)
              .map((w) => {
                const start = text.indexOf(w, at);
                at = start + w.length;
                return { id: this.wordId(w), text: w, special: false, start, stop: at };
              });
            const cls = { id: 0, text: '[CLS]', special: true, start: null, stop: null };
            const sep = { id: 1, text: '[SEP]', special: true, start: null, stop: null };
            return input.addSpecialTokens ? [cls, ...words, sep] : words;
          });
          return { tokens } as TaskOutput<I>;
        }
        if (input.task === 'feature-extraction') {
          if (input.ids?.flat().some((id) => id < 0 || id >= this.vocab.length + 2))
            throw new ServerError('invalid_input', 'token id outside the vocabulary');
          const texts = input.ids
            ? input.ids.map((row) =>
                row
                  .filter((id) => id > 1)
                  .map((id) => this.vocab[id - 2])
                  .join(' '),
              )
            : input.texts;
          const vectors = texts.map((t) => fakeVector(req.source, t, dims));
          return { vectors, tokens: texts.map((t) => t.split(/\s+/).length + 2) } as TaskOutput<I>;
        }
        if (input.task === 'text-classification') {
          const labels = input.texts.map((t) => {
            const p = (fakeVector(req.source, t, 1)[0]! + 1) / 2;
            return [
              { label: 'POSITIVE', score: p },
              { label: 'NEGATIVE', score: 1 - p },
            ]
              .sort((a, b) => b.score - a.score)
              .slice(0, input.topK);
          });
          return { labels, tokens: input.texts.map((t) => t.split(/\s+/).length + 2) } as TaskOutput<I>;
        }
        if (input.task !== 'text-generation' && input.task !== 'text2text-generation')
          throw new ServerError('unsupported_task', `the fake backend does not serve ${input.task}`);
        const n = input.params.maxNewTokens;
        const one = (prompt: string) => {
          const tokenIds = Array.from({ length: n }, (_, i) => i + 1 + prompt.length);
          return { text: tokenIds.map((t) => ` t${t}`).join(''), tokenIds, finishReason: 'length' as const, promptTokens: prompt.length };
        };
        if (input.prompts) {
          const batch = input.prompts.map((x) => one(x.prompt ?? ''));
          return { ...batch[0]!, batch } as TaskOutput<I>;
        }
        const out = one(input.prompt ?? '');
        out.tokenIds.forEach((t) => input.onText?.(` t${t}`));
        return out as TaskOutput<I>;
      },
      dispose: async () => {
        if (!disposed) {
          disposed = true;
          this.loaded--;
          this.disposed.push(req.source);
        }
      },
    };
  }
}

/** A model folder the fake backend can "load": config.json and a placeholder onnx/model.onnx. */
export function fakeModelDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hfms-fake-'));
  mkdirSync(join(dir, 'onnx'));
  writeFileSync(join(dir, 'config.json'), '{}');
  writeFileSync(join(dir, 'onnx', 'model.onnx'), 'x');
  return dir;
}

/** A skill manifest for a fake model serving `task` (bert-like unless generation). */
export function fakeSkill(name: string, task: Task, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const gen = task === 'text-generation' || task === 'text2text-generation';
  return {
    name,
    family: gen ? 'gpt2' : 'bert',
    architecture: gen ? 'decoder-only' : 'encoder-only',
    tasks: [task],
    description: name,
    model: { id: fakeModelDir() },
    ...extra,
  };
}
