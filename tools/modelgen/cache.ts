/**
 * @module cache
 * Builds generated models once into a git-ignored cache (`.cache/models/<generator hash>/`),
 * so tests and benchmarks share fixtures. The hash covers the generator's own source files:
 * when the generator changes, fixtures are rebuilt and stale hash folders are removed.
 * Builds go to a temporary folder and are renamed into place, so parallel test workers are safe.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeModel } from './index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Default cache root: `<repo>/.cache/models`. */
export const DEFAULT_CACHE_ROOT = resolve(HERE, '..', '..', '.cache', 'models');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
    })
    .sort();
}

let hashMemo: string | undefined;
/** A short hash of the generator's sources. */
/**
 * What the generated models depend on: the generator's sources and the shared PRNG their weights
 * come from, nothing else of src/, so editing the server does not rebuild every model.
 */
export function generatorSources(): string[] {
  return [...sourceFiles(HERE), resolve(HERE, '..', '..', 'src', 'prng.ts')];
}

export function generatorHash(): string {
  if (!hashMemo) {
    const h = createHash('sha256');
    for (const f of generatorSources()) h.update(f.slice(HERE.length)).update(readFileSync(f));
    hashMemo = h.digest('hex').slice(0, 12);
  }
  return hashMemo;
}

/** Which model to ensure. */
export interface FixtureSpec {
  arch: string;
  size?: string;
  seed?: number;
  overrides?: Record<string, number>;
  chat?: boolean;
}

/** The folder name of a fixture inside the cache. */
export function fixtureName(spec: FixtureSpec): string {
  const o = Object.entries(spec.overrides ?? {})
    .sort()
    .map(([k, v]) => `-${k}${v}`)
    .join('');
  return `${spec.arch}-${spec.size ?? 'tiny'}-s${spec.seed ?? 1}${o}${spec.chat ? '-chat' : ''}`;
}

/** Returns the folder of a cached generated model, building it if needed. */
export function ensureModel(spec: FixtureSpec, root = DEFAULT_CACHE_ROOT): string {
  const hash = generatorHash();
  const base = join(root, hash);
  const dir = join(base, fixtureName(spec));
  if (existsSync(join(dir, 'config.json'))) return dir;
  mkdirSync(base, { recursive: true });
  for (const old of existsSync(root) ? readdirSync(root) : []) {
    if (old !== hash) rmSync(join(root, old), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  makeModel({ arch: spec.arch, size: spec.size, seed: spec.seed, overrides: spec.overrides, chat: spec.chat, out: tmp });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker won the race
  }
  return dir;
}
