/**
 * @module config/options
 * The option table machinery: each option is declared once, as a zod schema (type, range,
 * default) with the command-line flags and environment variables that set it and their help.
 * From the table come the config schema, the `parseArgs` options, the environment mapping and
 * the `--help` text, so none of them can drift from the others.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseBytes, parseDuration } from './units.js';

/** Environment variables the server reads start with this. */
export const ENV_PREFIX = 'HF_MODEL_SERVER_';

/** Raised for bad flags or environment values; the CLI prints it and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** How a flag's or variable's text becomes a value (`name` is for error messages). */
export type Reader = (text: string, name: string) => unknown;

/** One way to set an option: a flag, an environment variable, or both. */
export interface Source {
  /** Flag without `--`; absent for variables with no flag. */
  flag?: string;
  /** Variable after the prefix; default: the flag upper-cased with `_`. */
  env?: string;
  /** Other variable names read too, in full (conventions such as HF_ENDPOINT). */
  envAlso?: string[];
  /** Placeholder in the help; absent for switches (boolean flags). */
  arg?: string;
  help: string;
  /** Default: the text itself (switches: a boolean). */
  read?: Reader;
  /** A repeatable flag; its variable is comma-separated. */
  list?: boolean;
  /** Values from several sources are concatenated instead of the first one winning. */
  concat?: boolean;
}

/** An option: its schema, and where it can be set from (none for internal ones). */
export interface Opt<S extends z.ZodType = z.ZodType> {
  schema: S;
  sources: Source[];
}

/** An option tree: leaves are options, inner nodes are nested config objects. */
export interface OptTree {
  [key: string]: Opt | OptTree;
}

export const opt = <S extends z.ZodType>(schema: S, ...sources: Source[]): Opt<S> => ({ schema, sources });

const isOpt = (x: Opt | OptTree): x is Opt => 'schema' in x && 'sources' in x;

/** The zod shape of an option tree. */
export type ShapeOf<T extends OptTree> = {
  [K in keyof T]: T[K] extends Opt<infer S> ? S : T[K] extends OptTree ? z.ZodObject<ShapeOf<T[K]>> : never;
};

/** The zod schema of an option tree (nested groups default to `{}`, so their fields default too). */
export function schemaOf<T extends OptTree>(tree: T): z.ZodObject<ShapeOf<T>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(tree)) shape[k] = isOpt(v) ? v.schema : schemaOf(v);
  return z.object(shape) as unknown as z.ZodObject<ShapeOf<T>>;
}

/** Every option with a source, with its path in the config. */
export function leaves(tree: OptTree, path: string[] = []): Array<{ path: string[]; opt: Opt }> {
  return Object.entries(tree).flatMap(([k, v]) => (isOpt(v) ? [{ path: [...path, k], opt: v }] : leaves(v, [...path, k])));
}

const envName = (s: Source) => `${ENV_PREFIX}${s.env ?? s.flag!.toUpperCase().replace(/-/g, '_')}`;

/** `parseArgs` options for every flag in the tree. */
export function parseArgsOptions(tree: OptTree): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const { opt: o } of leaves(tree)) {
    for (const s of o.sources) {
      if (!s.flag) continue;
      out[s.flag] = s.arg === undefined ? { type: 'boolean' } : s.list ? { type: 'string', multiple: true } : { type: 'string' };
    }
  }
  return out;
}

/**
 * The raw (unvalidated) config from parsed flags and the environment: flags win over variables;
 * an option with several sources takes the first that is set, or concatenates them.
 */
export function rawConfig(tree: OptTree, flags: Record<string, unknown>, env: Record<string, string | undefined>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const { path, opt: o } of leaves(tree)) {
    const values: unknown[] = [];
    for (const s of o.sources) {
      const read = (text: string, name: string) => (s.read ? s.read(text, name) : text);
      const f = s.flag ? flags[s.flag] : undefined;
      let v: unknown;
      if (f !== undefined) {
        if (typeof f === 'boolean') v = f;
        else if (Array.isArray(f)) v = f.flatMap((x) => [read(String(x), `--${s.flag}`)].flat());
        else v = read(String(f), `--${s.flag}`);
      } else {
        // An empty variable is an unset one: launchers fill optional settings with "".
        const name = [envName(s), ...(s.envAlso ?? [])].find((n) => env[n] !== undefined && env[n] !== '');
        const text = name === undefined ? undefined : env[name]!;
        if (text !== undefined) {
          if (s.arg === undefined) v = envBool(text, name!);
          else if (s.list) v = csv(text).flatMap((x) => [read(x, name!)].flat());
          else v = read(text, name!);
        }
      }
      if (v !== undefined) values.push(v);
    }
    if (values.length === 0) continue;
    const value = o.sources.some((s) => s.concat) ? values.flatMap((x) => (Array.isArray(x) ? x : [x])) : values[0];
    let at = raw;
    for (const k of path.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[path.at(-1)!] = value;
  }
  return raw;
}

/** The option lines of `--help`, one per source, in table order. */
export function helpLines(tree: OptTree): string {
  const lines: string[] = [];
  for (const { opt: o } of leaves(tree)) {
    for (const s of o.sources) {
      const left = s.flag ? `  --${s.flag}${s.arg ? ` ${s.arg}` : ''}` : `  ${envName(s)}=${s.arg ?? '1'}`;
      const switchOn = s.arg === undefined ? '=1' : '';
      const vars = [s.flag ? `${envName(s)}${switchOn}` : undefined, ...(s.envAlso ?? [])].filter(Boolean).join(', ');
      const text = `${s.help}${vars ? ` (${vars})` : ''}`;
      lines.push(left.length < 26 ? `${left.padEnd(26)} ${text}` : `${left}\n${' '.repeat(27)}${text}`);
    }
  }
  return lines.join('\n');
}

// Readers.

export const csv = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function envBool(v: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name}: expected a boolean, got "${v}"`);
}

export const int: Reader = (v, name) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`${name} must be an integer, got "${v}"`);
  return n;
};

/** A size like 4GB, 512MiB or 60% (of RAM); `zero` also accepts 0 (off). */
export const bytes =
  (zero = false): Reader =>
  (v, name) => {
    if (zero && v.trim() === '0') return 0;
    const n = parseBytes(v, totalmem());
    if (n === undefined || n <= 0) throw new ConfigError(`${name} must be a size like 4GB, 512MiB or 60%, got "${v}"`);
    return n;
  };

/** A duration in ms; `forever` also accepts 0 and -1 (only keep-alive does). */
export const duration =
  (forever = false, unit: 'ms' | 's' = 'ms'): Reader =>
  (v, name) => {
    const n = parseDuration(v);
    if (n === undefined || (!forever && n <= 0)) {
      throw new ConfigError(`${name} must be a duration like ${forever ? '5m, 30s, 0 or -1' : '10m or 30s'}, got "${v}"`);
    }
    return unit === 's' ? n / 1000 : n;
  };

/** An address range like 10.0.0.0/8 or fd00::/8 (a bare address is one host). */
export const cidr: Reader = (v, name) => {
  const text = v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`;
  try {
    ipaddr.parseCIDR(text);
  } catch {
    throw new ConfigError(`${name} must be an address range like 10.0.0.0/8 or fd00::/8, got "${v}"`);
  }
  return text;
};

export const path: Reader = (v) => resolve(v);
export const list: Reader = (v) => csv(v);

/** Non-empty, non-comment lines of a file (API keys). */
export const keyFile: Reader = (p, name) => {
  try {
    return readFileSync(p, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch (e) {
    throw new ConfigError(`${name}: cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};

/** A secret kept in a file (trailing newline dropped), so it stays out of the process list. */
export const secretFile: Reader = (p, name) => {
  try {
    return readFileSync(p, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new ConfigError(`${name}: cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};
