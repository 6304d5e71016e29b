/**
 * @module skills/live
 * The registry as the server holds it: a snapshot of the manifests that can be swapped while
 * the server runs. `reload()` re-reads every skills folder and reports which skills were added,
 * removed or changed, so the runtime can retire changed models and the front doors can refresh
 * their tool lists. Readers always see one whole snapshot.
 */
import type { Task } from './schema.js';
import { loadRegistry, type InvalidSkill, type RegisteredSkill, type Registry, type RegistryOptions } from './registry.js';

/** What a reload changed (skill names). */
export interface SkillChange {
  added: string[];
  removed: string[];
  changed: string[];
  /** Whether the list of rejected manifests changed. */
  invalidChanged: boolean;
}

const key = (r: RegisteredSkill) => JSON.stringify([r.skill, r.file]);

/** A registry whose manifests can be re-read at run time. */
export class LiveRegistry implements Registry {
  private current: Registry;
  private readonly listeners = new Set<(c: SkillChange) => void>();

  constructor(private readonly opts: RegistryOptions) {
    this.current = loadRegistry(opts);
  }

  get skills(): readonly RegisteredSkill[] {
    return this.current.skills;
  }

  get invalid(): readonly InvalidSkill[] {
    return this.current.invalid;
  }

  get(name: string): RegisteredSkill | undefined {
    return this.current.get(name);
  }

  forTask(task: Task): RegisteredSkill[] {
    return this.current.forTask(task);
  }

  defaultFor(task: Task): RegisteredSkill | undefined {
    return this.current.defaultFor(task);
  }

  /** Calls `fn` after each reload that changed something; returns the unsubscribe. */
  onChange(fn: (c: SkillChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Re-reads the manifests, swaps the snapshot and tells the listeners what changed. */
  reload(): SkillChange {
    const before = this.current;
    const byFile = new Map(before.skills.filter((s) => !s.builtin).map((s) => [s.file, s]));
    const next = loadRegistry({ ...this.opts, previous: (file) => byFile.get(file) });
    const old = new Map(before.skills.map((s) => [s.skill.name, key(s)]));
    const now = new Map(next.skills.map((s) => [s.skill.name, key(s)]));
    const change: SkillChange = {
      added: [...now.keys()].filter((n) => !old.has(n)),
      removed: [...old.keys()].filter((n) => !now.has(n)),
      changed: [...now.keys()].filter((n) => old.has(n) && old.get(n) !== now.get(n)),
      invalidChanged: JSON.stringify(before.invalid) !== JSON.stringify(next.invalid),
    };
    this.current = next;
    if (change.added.length || change.removed.length || change.changed.length || change.invalidChanged)
      for (const fn of this.listeners) fn(change);
    return change;
  }
}
