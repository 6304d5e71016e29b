/**
 * @module tasks/unload-model
 * `unload_model`: frees a loaded model. A model with requests in flight is unloaded as soon as
 * they finish (`deferred`); nothing in flight is lost.
 */
import { z } from 'zod';
import type { TaskDeps } from './deps.js';
import { ADMIN_SCOPE } from './scopes.js';
import { skillFor, skillNameField } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { TASKS } from '../skills/schema.js';

export function unloadModelTask(deps: TaskDeps): AnyTask | undefined {
  const names = deps.registry.skills.map((s) => s.skill.name);
  if (names.length === 0) return undefined;
  return defineTask({
    name: 'unload_model',
    title: 'Unload model',
    description: 'Unload a model to free memory. Work in flight finishes first. For operators.',
    inputSchema: { model: skillNameField('Skill to unload') },
    outputSchema: {
      model: z.string(),
      result: z.enum(['unloaded', 'deferred', 'not_loaded']),
    },
    annotations: { title: 'Unload model', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scope: ADMIN_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, TASKS);
      return args;
    },
    cacheable: () => false,
    handler: async (args, ctx) => {
      const result = await deps.loader.unload(args.model);
      deps.logger.info({ model: args.model, admin: 'unload_model', client: ctx.client, result }, 'admin action');
      return { model: args.model, result };
    },
  });
}
