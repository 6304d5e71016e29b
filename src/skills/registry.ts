/**
 * @module skills/registry
 * Discovers skill manifests (built-in `skills/` first, then each `--skills-dir`). A bad manifest
 * (invalid JSON, schema error, duplicate name, unknown task) is logged and kept in `invalid` with
 * its reason; the others still load.
 * A bad edit to a manifest that was valid keeps its last valid version (see `previous`).
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import { FolderFileError, readFolderJson } from './folder-json.js';
import { SkillSchema, type Skill, type Task } from './schema.js';

/** Largest manifest read; real ones are a few hundred bytes. */
const MAX_MANIFEST_BYTES = 1 << 20;

/** The package's own skills folder. */
export const BUILTIN_SKILLS_DIR = fileURLToPath(new URL('../../skills', import.meta.url));

/** A manifest that was rejected. */
export interface InvalidSkill {
  file: string;
  name?: string;
  reason: string;
}

/** A loaded skill and where it came from. */
export interface RegisteredSkill {
  skill: Skill;
  file: string;
  builtin: boolean;
}

/** The discovered skills (a snapshot; skills/live.ts swaps snapshots when manifests change). */
export interface Registry {
  readonly skills: readonly RegisteredSkill[];
  readonly invalid: readonly InvalidSkill[];
  get(name: string): RegisteredSkill | undefined;
  /** Skills serving `task`, default first. */
  forTask(task: Task): RegisteredSkill[];
  /** The default skill for `task`: one that declares it in default_for, else the first. */
  defaultFor(task: Task): RegisteredSkill | undefined;
}

function manifests(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Options for {@link loadRegistry}. */
export interface RegistryOptions {
  /** Built-in skills folder (default: the package's `skills/`). Pass null to skip. */
  builtinDir?: string | null;
  userDirs?: readonly string[];
  logger?: Logger;
  /**
   * The skill a manifest file gave before, if any: when that file is now invalid, the previous
   * skill stays registered (the file is still listed as invalid, with its reason), so a bad
   * edit does not take a working model away. Used by reloads (skills/live.ts).
   */
  previous?: (file: string) => RegisteredSkill | undefined;
}

/** Reads and validates all manifests. Never throws for a bad manifest. */
export function loadRegistry(opts: RegistryOptions = {}): Registry {
  const dirs: Array<[string, boolean]> = [];
  const builtin = opts.builtinDir === undefined ? BUILTIN_SKILLS_DIR : opts.builtinDir;
  if (builtin) dirs.push([builtin, true]);
  for (const d of opts.userDirs ?? []) dirs.push([d, false]);
  const skills: RegisteredSkill[] = [];
  const invalid: InvalidSkill[] = [];
  const byName = new Map<string, RegisteredSkill>();
  for (const [dir, isBuiltin] of dirs) {
    for (const file of manifests(dir)) {
      const reject = (reason: string, name?: string) => {
        const kept = opts.previous?.(file);
        const keep = kept && !byName.has(kept.skill.name);
        invalid.push({ file, reason: keep ? `${reason} (the last valid version stays in use)` : reason, ...(name ? { name } : {}) });
        opts.logger?.warn(
          { file, reason },
          keep ? 'invalid skill manifest; keeping its last valid version' : 'skipping invalid skill manifest',
        );
        if (keep) {
          byName.set(kept.skill.name, kept);
          skills.push(kept);
        }
      };
      let json: unknown;
      try {
        // Inside its folder after symlinks, a regular file (a FIFO named *.json would block the
        // reload forever) of a sane size; errors never quote the file.
        json = readFolderJson(file, dir, MAX_MANIFEST_BYTES);
      } catch (e) {
        reject(e instanceof FolderFileError ? e.reason : `unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
        continue;
      }
      const r = SkillSchema.safeParse(json);
      const name = typeof (json as { name?: unknown })?.name === 'string' ? (json as { name: string }).name : undefined;
      if (!r.success) {
        reject(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '), name);
        continue;
      }
      const prev = byName.get(r.data.name);
      if (prev) {
        reject(`duplicate name "${r.data.name}" (already defined in ${basename(prev.file)})`, r.data.name);
        continue;
      }
      const reg = { skill: r.data, file, builtin: isBuiltin };
      byName.set(r.data.name, reg);
      skills.push(reg);
    }
  }
  opts.logger?.info({ skills: skills.length, invalid: invalid.length }, 'skills discovered');
  return Object.freeze({
    skills: Object.freeze(skills),
    invalid: Object.freeze(invalid),
    get: (name: string) => byName.get(name),
    forTask(task: Task) {
      const list = skills.filter((s) => s.skill.tasks.includes(task));
      return list.sort((a, b) => Number(b.skill.default_for.includes(task)) - Number(a.skill.default_for.includes(task)));
    },
    defaultFor(task: Task) {
      return skills.find((s) => s.skill.default_for.includes(task)) ?? skills.find((s) => s.skill.tasks.includes(task));
    },
  });
}
