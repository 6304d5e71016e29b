/**
 * @module transports/pull
 * `hf-model-server pull <skill|hub id>...`: downloads models into `--cache-dir` ahead of use
 * (a Kubernetes pre-fetch Job runs it against the shared cache volume). Each model is fetched
 * exactly as serving would fetch it (the files its skill's dtype needs on this host), loaded
 * once to prove the files work, and unloaded. Files already in the cache are not fetched again,
 * so a second run does nothing but that check. A Hub id that no skill names is pulled through a
 * skill inferred for it (as `add` would, without saving it). Progress goes to stderr: one
 * rewritten line on a terminal, plain lines otherwise; the summary is JSON on stdout.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../app.js';
import { skillDirs, type Config } from '../config/config.js';
import { ServerError, toServerError } from '../errors.js';
import { isHubId } from '../hub/model-info.js';
import { loadRegistry, type Registry } from '../skills/registry.js';
import { InferenceError } from '../skills/infer.js';
import { addSkill } from '../tasks/add-skill.js';

/** One pulled model. */
export interface Pulled {
  model: string;
  source: string;
  dtype: string;
  device: string;
  bytes: number;
  ok: boolean;
  error?: { code: string; message: string };
}

/** Progress printer: a rewritten line on a TTY, a line per file step (0, 25, 50, 75, 100 %) otherwise. */
function progressPrinter(out: NodeJS.WriteStream, model: string) {
  const tty = out.isTTY === true;
  const shown = new Map<string, number>();
  return (p: { phase: string; file?: string; progress?: number }) => {
    const pct = p.progress === undefined ? undefined : Math.max(0, Math.min(100, Math.round(p.progress)));
    if (tty) {
      const bar = pct === undefined ? '' : ` [${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '.')}] ${pct}%`;
      out.write(`\r\u001b[2K${model}: ${p.phase}${p.file ? ` ${p.file}` : ''}${bar}`);
      return;
    }
    const key = `${p.phase}:${p.file ?? ''}`;
    const step = pct === undefined ? -1 : Math.floor(pct / 25) * 25;
    if (shown.has(key) && shown.get(key)! >= step) return;
    shown.set(key, step);
    out.write(`${model}: ${p.phase}${p.file ? ` ${p.file}` : ''}${step >= 0 ? ` ${step}%` : ''}\n`);
  };
}

/** The skill named `name`, or else the one serving Hub id `name`. */
function skillNamedOrServing(registry: Registry, name: string) {
  return registry.get(name)?.skill ?? registry.skills.find((s) => s.skill.model.id === name)?.skill;
}

/** What {@link prepareHubPulls} found: extra skills to load, and the names to pull. */
export interface HubPulls {
  /** A temporary skills folder with the inferred skills (undefined when none were needed). */
  dir: string | undefined;
  /** Each requested name, as pull will look it up (a Hub id inferred here becomes its skill's name). */
  names: string[];
  /** Hub ids whose inference failed, with why (reported by pull as that id's result). */
  failures: Map<string, ServerError>;
}

/**
 * For each Hub id among `names` that no skill names, infers a skill from the hub into a
 * temporary folder (nothing is saved among the user's skills). Run before the app is created,
 * so the app reads that folder too.
 */
export async function prepareHubPulls(config: Config, names: string[]): Promise<HubPulls> {
  const known = loadRegistry({ userDirs: skillDirs(config) });
  const out: HubPulls = { dir: undefined, names: [], failures: new Map() };
  for (const name of names) {
    if (skillNamedOrServing(known, name) || config.offline || !name.includes('/') || !isHubId(name)) {
      out.names.push(name);
      continue;
    }
    out.dir ??= mkdtempSync(join(tmpdir(), 'hfms-pull-'));
    try {
      const { skill } = await addSkill(config, out.dir, name, { taken: (n) => known.get(n) !== undefined });
      out.names.push(skill.name);
    } catch (e) {
      out.names.push(name);
      out.failures.set(name, e instanceof InferenceError ? new ServerError('invalid_input', e.message) : toServerError(e));
    }
  }
  return out;
}

/** Pulls each of `names` (a skill name, or the Hub id a skill names); never throws. */
export async function pull(
  app: App,
  names: string[],
  err: NodeJS.WriteStream = process.stderr,
  failures: ReadonlyMap<string, ServerError> = new Map(),
): Promise<Pulled[]> {
  const { registry, loader, config } = app.deps;
  const results: Pulled[] = [];
  for (const name of names) {
    const failed = failures.get(name);
    const skill = failed ? undefined : skillNamedOrServing(registry, name);
    try {
      if (failed) throw failed;
      if (!skill)
        throw new ServerError(
          'unknown_model',
          `no skill named or serving "${name.slice(0, 120)}"` +
            (name.includes('/')
              ? `; to use a Hub model, run \`hf-model-server add ${name.slice(0, 120)}\` first (it infers the skill), then pull it`
              : '') +
            `; valid: ${registry.skills.map((s) => s.skill.name).join(', ')}`,
        );
      if (config.offline) throw new ServerError('invalid_input', 'pull downloads models; it cannot run with --offline');
      const info = await loader.load(skill.name, { onProgress: progressPrinter(err, skill.name) });
      if (err.isTTY) err.write('\n');
      await loader.unload(skill.name);
      err.write(`${skill.name}: ready (${info.source}, ${info.dtype})\n`);
      results.push({ model: skill.name, source: info.source, dtype: info.dtype, device: info.device, bytes: info.bytes, ok: true });
    } catch (e) {
      const se = toServerError(e);
      err.write(`${skill?.name ?? name}: failed: ${se.code}: ${se.message}\n`);
      results.push({
        model: skill?.name ?? name,
        source: skill?.model.id ?? name,
        dtype: '',
        device: '',
        bytes: 0,
        ok: false,
        error: { code: se.code, message: se.message },
      });
    }
  }
  return results;
}
