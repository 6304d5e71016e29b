/**
 * @module skills/infer
 * A skill manifest inferred from a model folder in the Hub layout: its config.json
 * (`architectures`, `model_type`, `id2label`), its tokenizer files (a chat template), and which
 * ONNX files exist (fp32, fp16, q8, q4 ...). The mapping from architecture to tasks is the
 * declared table {@link ARCH_TASKS}; when nothing in it matches, the inference says so and names
 * the `--task` to set instead of guessing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FolderFileError, readFolderJson } from './folder-json.js';
import { SkillSchema, TASKS, type Dtype, type Skill, type Task } from './schema.js';

/** Why a manifest could not be inferred. */
export class InferenceError extends Error {
  override name = 'InferenceError';
}

type Kind = Skill['architecture'];

/** Architecture class name patterns -> the skill's kind and tasks, first match wins. */
export const ARCH_TASKS: ReadonlyArray<{ pattern: RegExp; kind: Kind; tasks: Task[]; note: string }> = [
  {
    pattern: /^WhisperForConditionalGeneration$/,
    kind: 'audio',
    tasks: ['automatic-speech-recognition'],
    note: 'Whisper speech recognition',
  },
  {
    pattern: /ForTokenClassification$/,
    kind: 'encoder-only',
    tasks: ['token-classification'],
    note: 'a label per token: named entities',
  },
  {
    pattern: /ForSequenceClassification$/,
    kind: 'encoder-only',
    tasks: ['text-classification'],
    note: 'a classification head over id2label',
  },
  {
    pattern: /^VisionEncoderDecoderModel$/,
    kind: 'multimodal',
    tasks: ['image-to-text'],
    note: 'an image encoder with a text decoder: captions',
  },
  { pattern: /ForImageClassification$/, kind: 'vision', tasks: ['image-classification'], note: 'an image classification head' },
  { pattern: /ForObjectDetection$/, kind: 'vision', tasks: ['object-detection'], note: 'an object detection head' },
  {
    pattern: /^(CLIP|Siglip|ChineseCLIP)Model$/,
    kind: 'multimodal',
    tasks: ['zero-shot-image-classification'],
    note: 'image-text similarity',
  },
  {
    pattern: /^(T5|MT5|Bart|MBart|Marian|Pegasus)ForConditionalGeneration$/,
    kind: 'encoder-decoder',
    tasks: ['text2text-generation'],
    note: 'a sequence-to-sequence model',
  },
  { pattern: /(ForCausalLM|LMHeadModel)$/, kind: 'decoder-only', tasks: ['text-generation'], note: 'a causal language model' },
  {
    pattern: /^(Bert|Roberta|XLMRoberta|DistilBert|MPNet|Electra|DebertaV?2?|NomicBert|ModernBert|Gte|E5|Camembert)Model$/,
    kind: 'encoder-only',
    tasks: ['feature-extraction'],
    note: 'an encoder without a head: sentence embeddings',
  },
];

/** transformers.js file suffixes per dtype (model{suffix}.onnx). */
const SUFFIX: Record<string, Dtype> = {
  '': 'fp32',
  _fp16: 'fp16',
  _quantized: 'q8',
  _int8: 'int8',
  _uint8: 'uint8',
  _q4: 'q4',
  _q4f16: 'q4f16',
  _bnb4: 'bnb4',
};
/** What to run on CPU when there is no fp32 file, best first. */
const CPU_PREFERENCE: Dtype[] = ['fp32', 'q8', 'int8', 'uint8', 'q4', 'fp16', 'q4f16', 'bnb4'];

/**
 * What inference reads from a model: its files (paths relative to the model root) and the JSON
 * of a few of them. A folder on disk and a model on the hub (skills added by Hub id) both give one.
 */
export interface ModelListing {
  /** The manifest's model.id: a folder's absolute path, or a Hub id. */
  id: string;
  /** Files, relative to the model root, with `/` separators. */
  files: readonly string[];
  /** The parsed JSON of `file`, or undefined when the model has no such file. */
  json(file: string): Record<string, unknown> | undefined;
}

/** Largest config file read (tokenizer configs with long chat templates run to a few hundred kB). */
const MAX_CONFIG_BYTES = 16 << 20;

function readJson(path: string, root: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readFolderJson(path, root, MAX_CONFIG_BYTES) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof FolderFileError) throw new InferenceError(e.message);
    throw e;
  }
}

/**
 * The folder a model folder's files must resolve inside: the folder itself, or for a snapshot in
 * a Hugging Face cache (`models--org--name/snapshots/<rev>/`, whose files link into the
 * repository's `blobs/`) the repository folder.
 */
export function containmentRoot(dir: string): string {
  const m = /^(.*[\\/]models--[^\\/]+)[\\/]snapshots[\\/][^\\/]+[\\/]?$/.exec(dir);
  return m ? m[1]! : dir;
}

/**
 * The listing of a model folder on disk. Its JSON files must resolve inside `root` (default: the
 * folder, see {@link containmentRoot}) after symlinks; a file linking elsewhere is refused.
 */
export function folderListing(folder: string, root?: string): ModelListing {
  const dir = resolve(folder);
  const within = root ?? containmentRoot(dir);
  const onnx = join(dir, 'onnx');
  const files = existsSync(onnx) ? readdirSync(onnx).map((f) => `onnx/${f}`) : [];
  return { id: dir, files, json: (file) => readJson(join(dir, file), within) };
}

/** The dtypes the model has files for (every ONNX file of the model, e.g. encoder and decoder, must exist). */
export function availableDtypes(files: readonly string[]): Dtype[] {
  const bases = new Set<string>();
  const byDtype = new Map<Dtype, Set<string>>();
  for (const f of files) {
    const m = /^onnx\/([^/]*?)(_fp16|_quantized|_int8|_uint8|_q4f16|_q4|_bnb4)?\.onnx$/.exec(f);
    if (!m) continue;
    const dtype = SUFFIX[m[2] ?? '']!;
    bases.add(m[1]!);
    byDtype.set(dtype, new Set([...(byDtype.get(dtype) ?? []), m[1]!]));
  }
  return CPU_PREFERENCE.filter((d) => byDtype.get(d)?.size === bases.size);
}

/** A skill name from a folder or id: lowercase, allowed characters only. */
export function skillNameOf(source: string): string {
  const base =
    source
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? 'model';
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return (name || 'model').slice(0, 64);
}

/** Infers a manifest for the model folder `folder`; throws {@link InferenceError} with the reason and what to set. */
export function inferSkill(folder: string, o: { name?: string | undefined; task?: string | undefined; root?: string } = {}): Skill {
  return inferFrom(folderListing(folder, o.root), o);
}

/** Infers a manifest from a model's listing (a folder or a hub model). */
export function inferFrom(model: ModelListing, o: { name?: string | undefined; task?: string | undefined } = {}): Skill {
  const dir = model.id;
  const config = model.json('config.json');
  if (!config) throw new InferenceError(`no config.json in ${dir}: not a model in the Hugging Face layout`);
  const arch = Array.isArray(config.architectures) ? String(config.architectures[0] ?? '') : '';
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  const dtypes = availableDtypes(model.files);
  if (dtypes.length === 0) throw new InferenceError(`no ONNX files under ${dir}/onnx: export the model to ONNX first (e.g. with Optimum)`);
  let rule = ARCH_TASKS.find((r) => r.pattern.test(arch));
  if (o.task !== undefined) {
    if (!(TASKS as readonly string[]).includes(o.task)) throw new InferenceError(`--task must be one of: ${TASKS.join(', ')}`);
    rule = { pattern: /./, kind: rule?.kind ?? 'encoder-only', tasks: [o.task as Task], note: 'the task given' };
  }
  if (!rule)
    throw new InferenceError(
      `cannot tell which task ${arch || '(no architectures in config.json)'}${modelType ? ` (model_type ${modelType})` : ''} serves; pass --task (one of: ${TASKS.join(', ')})`,
    );
  // One output label is a relevance score, not a class: a cross-encoder (reranker).
  const labels = typeof config.id2label === 'object' && config.id2label !== null ? Object.keys(config.id2label).length : 0;
  if (o.task === undefined && rule.tasks.includes('text-classification') && (labels === 1 || config.num_labels === 1))
    rule = { ...rule, tasks: ['text-ranking'], note: 'a one-logit sequence classifier: a cross-encoder reranker' };
  // Labels that include entailment: natural language inference, which zero-shot classification reads.
  const nliLabels = Object.values((config.id2label ?? {}) as Record<string, unknown>).map((l) => String(l).toLowerCase());
  if (o.task === undefined && rule.tasks.includes('text-classification') && nliLabels.includes('entailment'))
    rule = { ...rule, tasks: ['zero-shot-classification'], note: 'an NLI classifier: zero-shot text classification' };
  if (rule.tasks.includes('text-classification') && labels === 0)
    throw new InferenceError(`${arch} has no id2label in config.json, so its labels are unknown; add id2label or pass --task`);
  const tokenizerConfig = model.json('tokenizer_config.json');
  const chat = typeof tokenizerConfig?.chat_template === 'string' || Array.isArray(tokenizerConfig?.chat_template);
  const cpu = dtypes[0]!;
  const manifest = {
    name: o.name ?? skillNameOf(dir),
    family: modelType || arch.toLowerCase() || 'unknown',
    architecture: rule.kind,
    tasks: rule.tasks,
    description: `${arch || modelType} (${rule.note}), added from ${basename(dir)}. Files: ${dtypes.join(', ')}.`.slice(0, 300),
    model: { id: dir, ...(cpu !== 'fp32' ? { dtype: { cpu } } : {}) },
    ...(rule.tasks.includes('text-generation') || rule.tasks.includes('text2text-generation')
      ? { generation: { max_new_tokens: 256, chat_template: chat } }
      : {}),
  };
  const r = SkillSchema.safeParse(manifest);
  if (!r.success)
    throw new InferenceError(
      `the inferred manifest is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}
