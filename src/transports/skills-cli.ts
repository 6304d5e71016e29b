/**
 * @module transports/skills-cli
 * Skill management from the command line: `add` infers a manifest for a model folder or a Hub
 * id (skills/add.ts) and saves it among the user's skills, `list` shows every skill with its
 * tasks, source, whether its files are on disk and their size, and `rm` removes an added skill
 * (with `--purge`, its downloaded files too). Built-in skills cannot be removed.
 */
import { nearest } from '../config/suggest.js';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { App } from '../app.js';
import { addTarget, skillDirs, type Config } from '../config/config.js';
import { loadRegistry } from '../skills/registry.js';
import { InferenceError } from '../skills/infer.js';
import { ServerError } from '../errors.js';
import { addSkill } from '../tasks/add-skill.js';

/** Whether a skill's files are on this machine (a local folder, the models dir, or the download cache). */
function isOnDisk(loader: App['deps']['loader'], name: string, hasFiles: boolean): boolean {
  try {
    return existsSync(join(loader.resolve(name), 'config.json')) || hasFiles;
  } catch {
    return false;
  }
}

/** Runs a skill command; returns the exit code. Output on stdout, reasons on stderr. */
export async function runSkillsCommand(
  app: App | undefined,
  config: Config,
  cmd: { command: 'add' | 'list' | 'rm'; target?: string; name?: string; task?: string; purge: boolean },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  if (cmd.command === 'add') {
    const dir = addTarget(config);
    if (!dir) {
      err.write('hf-model-server: add needs --skills-dir or a home folder for ~/.config/hf-model-server\n');
      return 2;
    }
    try {
      // The names the server will have registered before this file (built-ins and other folders).
      const known = loadRegistry({ userDirs: skillDirs(config) });
      const saved = await addSkill(config, dir, cmd.target!, { name: cmd.name, task: cmd.task, taken: (n) => known.get(n) !== undefined });
      out.write(`${JSON.stringify(saved, null, 2)}\n`);
      return 0;
    } catch (e) {
      if (e instanceof InferenceError) err.write(`hf-model-server: cannot add ${cmd.target}: ${e.message}\n`);
      else if (e instanceof ServerError) err.write(`hf-model-server: cannot add ${cmd.target}: ${e.code}: ${e.message}\n`);
      else throw e;
      return 2;
    }
  }
  const { registry, loader } = app!.deps;
  if (cmd.command === 'list') {
    const rows = registry.skills.map((r) => {
      const s = r.skill;
      const onDisk = isOnDisk(loader, s.name, Object.keys(s.model.files ?? {}).length > 0);
      const bytes = onDisk ? loader.fileBytes(s.name) : 0;
      return { name: s.name, tasks: s.tasks.join(','), source: r.builtin ? `built-in: ${s.model.id}` : r.file, onDisk, size: bytes };
    });
    const mib = (b: number) => (b ? `${(b / 1048576).toFixed(0)} MiB` : '-');
    const lines = rows.map((r) => [r.name, r.tasks, r.onDisk ? 'yes' : 'no', mib(r.size), r.source]);
    const header = ['NAME', 'TASKS', 'ON DISK', 'SIZE', 'SOURCE'];
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    for (const l of [header, ...lines]) out.write(`${l.map((c, i) => (i < l.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')}\n`);
    return 0;
  }
  const reg = registry.get(cmd.target!);
  if (!reg) {
    const near = nearest(
      cmd.target!,
      registry.skills.map((s) => s.skill.name),
    );
    err.write(
      `hf-model-server: no skill named "${cmd.target}"${near ? `; did you mean ${near}?` : ''} (hf-model-server list shows them)\n`,
    );
    return 2;
  }
  if (reg.builtin) {
    err.write(
      `hf-model-server: "${cmd.target}" is built in and cannot be removed. It takes no memory or disk until a call uses it (its files download then); to hide a whole tool, start the server with --tools\n`,
    );
    return 2;
  }
  rmSync(reg.file);
  const removed: string[] = [reg.file];
  if (cmd.purge) {
    // Downloads live under --cache-dir as <hub id>/...; a local folder is the user's own and stays.
    const cached = join(config.cacheDir, reg.skill.model.id);
    if (!reg.skill.model.id.startsWith('/') && existsSync(cached) && dirname(cached).startsWith(config.cacheDir)) {
      rmSync(cached, { recursive: true, force: true });
      removed.push(cached);
    }
  }
  out.write(`${JSON.stringify({ removed }, null, 2)}\n`);
  return 0;
}
