/**
 * @module tasks/register-model
 * `register_model` (admin): adds a model as a skill while the server runs. It infers the manifest
 * (tasks/add-skill.ts) from a folder under one of the `--allow-register-dir` roots, or from a Hub
 * id when `--allow-register-hub` is set and the server is online, saves it among the added
 * skills, and reloads the registry, so every client gets the same notifications as for a
 * manifest dropped into a watched folder. The tool exists only when one of those flags is set:
 * an agent that adds models chooses what code-adjacent artifacts (weights, tokenizers, configs)
 * the server will load, which is a supply-chain decision for the operator.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { addTarget } from '../config/config.js';
import { ServerError, echo } from '../errors.js';
import { isHubId } from '../hub/model-info.js';
import { isInside } from '../skills/folder-json.js';
import { InferenceError } from '../skills/infer.js';
import { TASKS } from '../skills/schema.js';
import { addSkill } from './add-skill.js';
import type { TaskDeps } from './deps.js';
import { ADMIN_SCOPE } from './scopes.js';
import { defineTask, type AnyTask } from './task.js';

/**
 * The folder's real path, and the real allowed root it lies in, when it is a folder inside one of
 * `roots` (after symlinks); else undefined. The files it is inferred from must resolve inside
 * that root too.
 */
function allowedFolder(source: string, roots: readonly string[]): { folder: string; root: string } | undefined {
  let real: string;
  try {
    real = realpathSync(source);
    if (!statSync(real).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  for (const r of roots) {
    let root: string;
    try {
      root = realpathSync(r);
    } catch {
      continue;
    }
    if (isInside(root, real)) return { folder: real, root };
  }
  return undefined;
}

export function registerModelTask(deps: TaskDeps): AnyTask | undefined {
  const { config } = deps;
  const roots = config.allowRegisterDirs;
  const hub = config.allowRegisterHub && !config.offline;
  if (roots.length === 0 && !hub) return undefined;
  const accepts = [roots.length ? `a model folder under ${roots.join(', ')}` : '', hub ? 'a Hub id (org/name)' : '']
    .filter(Boolean)
    .join(' or ');
  return defineTask({
    name: 'register_model',
    title: 'Register model',
    description: `Add a model as a new skill at run time: ${accepts}. Its tasks are inferred from its config and files; the tools' model lists update at once. For operators.`,
    inputSchema: {
      source: z.string().min(1).max(4096).describe(`The model: ${accepts}.`),
      name: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/)
        .optional()
        .describe('Skill name (default: from the folder or id).'),
      task: z.enum(TASKS).optional().describe('The task, when it cannot be inferred from the architecture.'),
    },
    outputSchema: {
      model: z.string(),
      tasks: z.array(z.string()),
      source: z.string(),
      file: z.string(),
    },
    annotations: { title: 'Register model', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: hub },
    scope: ADMIN_SCOPE,
    // Metrics count calls per model: the new skill's name, when it is given.
    prepare: (args) => ({ ...args, model: args.name ?? 'none' }),
    cacheable: () => false,
    handler: async (args, ctx) => {
      const dir = addTarget(config);
      if (!dir) throw new ServerError('invalid_input', 'no folder to save skills in: start the server with --skills-dir or a home folder');
      let source: string;
      const folder = allowedFolder(args.source, roots);
      if (folder) source = folder.folder;
      else if (hub && !isAbsolute(args.source) && isHubId(args.source)) source = args.source;
      else
        throw new ServerError(
          'path_not_allowed',
          `${echo(args.source)} is not ${accepts}` + (roots.length ? ' (after resolving symlinks)' : ''),
        );
      let saved;
      try {
        saved = await addSkill(config, dir, source, {
          name: args.name,
          task: args.task,
          taken: (n) => deps.registry.get(n) !== undefined,
          ...(folder ? { root: folder.root } : {}),
        });
      } catch (e) {
        if (e instanceof InferenceError) throw new ServerError('invalid_input', e.message);
        throw e;
      }
      deps.reloadSkills?.();
      deps.logger.info({ model: saved.skill.name, source, admin: 'register_model', client: ctx.client }, 'admin action');
      return { model: saved.skill.name, tasks: saved.skill.tasks, source, file: saved.file };
    },
  });
}
