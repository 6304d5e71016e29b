/**
 * @module tasks/add-skill
 * Adding a model as a skill, shared by the `add` command and the `register_model` tool: infer a
 * manifest from a model folder or a Hub id (the hub's file list and config, no weights) and save
 * it in a skills folder, refusing to overwrite a skill of the same name.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { ServerError } from '../errors.js';
import { hubListing, isHubId } from '../hub/model-info.js';
import { InferenceError, inferFrom, inferSkill } from '../skills/infer.js';
import type { Skill } from '../skills/schema.js';

/** Infers the manifest for `target` (a folder, or a Hub id when online) and writes it into `dir`. */
export async function addSkill(
  config: Pick<Config, 'offline' | 'hubEndpoint' | 'hubToken' | 'hubTimeoutMs'>,
  dir: string,
  target: string,
  o: { name?: string | undefined; task?: string | undefined; taken?: (name: string) => boolean; root?: string } = {},
): Promise<{ file: string; skill: Skill }> {
  let skill: Skill;
  if (existsSync(target)) skill = inferSkill(target, o);
  else if (isHubId(target)) {
    if (config.offline)
      throw new ServerError('invalid_input', `"${target}" is not a folder here, and adding by Hub id needs the hub: run without --offline`);
    const access = { endpoint: config.hubEndpoint, token: config.hubToken };
    skill = inferFrom(await hubListing(access, target, 'main', { timeoutMs: config.hubTimeoutMs }), o);
  } else throw new InferenceError(`"${target.slice(0, 200)}" is neither a model folder nor a Hub id (org/name)`);
  const file = join(dir, `${skill.name}.json`);
  // Another folder's skill of that name would win over this one (the first definition does).
  if (o.taken?.(skill.name)) throw new InferenceError(`a skill named "${skill.name}" is already registered; pass another name`);
  if (existsSync(file)) throw new InferenceError(`a skill named "${skill.name}" already exists (${file}); pass another name`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(skill, null, 2)}\n`);
  return { file, skill };
}
