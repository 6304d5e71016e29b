/**
 * @module modelgen
 * Programmatic API of the model generator: `makeModel()` writes one Hugging Face style model
 * folder (config.json, tokenizer / preprocessor files, onnx/*.onnx) for a named architecture and
 * size, and returns the weights so tests can recompute outputs with the reference forward pass.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHS, type ArchName, type BuiltModel, type Dims } from './archs/index.js';
import { ModelGenError } from './errors.js';
import type { Weight } from './onnx-builder.js';

export { ModelGenError } from './errors.js';

export { ARCHS, type ArchName } from './archs/index.js';
export type { Dims } from './archs/index.js';

/** Options for {@link makeModel}. */
export interface MakeModelOptions {
  arch: string;
  /** A size preset of the architecture (default `tiny`). */
  size?: string;
  /** Folder to write; omit to build in memory only (weights and config). */
  out?: string;
  /** Weight seed (default 1). */
  seed?: number;
  /** GPT-2 only: write a chat template (default false). */
  chat?: boolean;
  /** Dimension overrides on top of the preset (e.g. `{ hidden: 64 }`). */
  overrides?: Partial<Record<string, number>>;
}

/** What {@link makeModel} wrote. */
export interface MadeModel {
  /** The folder written, or undefined for an in-memory build. */
  dir: string | undefined;
  arch: ArchName;
  size: string;
  dims: Dims;
  /** Weights per ONNX file name (e.g. `model`, `encoder_model`). */
  weights: Record<string, Map<string, Weight>>;
  /** The config.json contents. */
  config: Record<string, unknown>;
  /** Bytes written per file, relative to `dir`. */
  files: Record<string, number>;
}

/** Validates the arch/size/overrides and returns the resolved dimensions. */
export function resolveDims(arch: string, size = 'tiny', overrides: Partial<Record<string, number>> = {}): { arch: ArchName; dims: Dims } {
  if (!(arch in ARCHS)) throw new ModelGenError(`unknown arch "${arch}"; valid: ${Object.keys(ARCHS).join(', ')}`);
  const spec = ARCHS[arch as ArchName];
  const preset = (spec.sizes as Record<string, Dims>)[size];
  if (!preset) throw new ModelGenError(`unknown size "${size}" for ${arch}; valid: ${Object.keys(spec.sizes).join(', ')}`);
  const dims = { ...preset } as Record<string, number>;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    if (!(k in dims)) throw new ModelGenError(`unknown dimension "${k}" for ${arch}; valid: ${Object.keys(dims).join(', ')}`);
    if (!Number.isInteger(v) || v <= 0) throw new ModelGenError(`dimension ${k} must be a positive integer (got ${v})`);
    dims[k] = v;
  }
  spec.validate(dims as never);
  return { arch: arch as ArchName, dims: dims as unknown as Dims };
}

/** Writes one model folder. Throws {@link ModelGenError} on bad arguments or an unwritable dir. */
export function makeModel(opts: MakeModelOptions): MadeModel {
  const size = opts.size ?? 'tiny';
  const { arch, dims } = resolveDims(opts.arch, size, opts.overrides);
  const built: BuiltModel = ARCHS[arch].build(dims as never, opts.seed ?? 1, { chat: opts.chat ?? false });
  const files: Record<string, number> = {};
  if (opts.out !== undefined) writeFolder(opts.out, built, files);
  const weights = Object.fromEntries(Object.entries(built.onnx).map(([k, v]) => [k, v.weights]));
  return { dir: opts.out, arch, size, dims, weights, config: built.json['config.json']!, files };
}

function writeFolder(out: string, built: BuiltModel, files: Record<string, number>): void {
  try {
    mkdirSync(join(out, 'onnx'), { recursive: true });
    for (const [name, content] of Object.entries(built.json)) {
      const text = `${JSON.stringify(content, null, 2)}\n`;
      writeFileSync(join(out, name), text);
      files[name] = Buffer.byteLength(text);
    }
    for (const [name, g] of Object.entries(built.onnx)) {
      const bytes = g.bytes;
      writeFileSync(join(out, 'onnx', `${name}.onnx`), bytes);
      files[`onnx/${name}.onnx`] = bytes.byteLength;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ModelGenError(`cannot write to ${out}: ${err.code ?? err.message}`);
  }
}
