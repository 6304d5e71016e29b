/**
 * @module tasks/load-model
 * `load_model`: loads a skill's model ahead of use (operators warm models this way). Sends load
 * progress notifications when the client gives a progress token.
 */
import { z } from 'zod';
import type { TaskDeps } from './deps.js';
import { ADMIN_SCOPE } from './scopes.js';
import { skillFor, skillNameField } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { TASKS } from '../skills/schema.js';

export function loadModelTask(deps: TaskDeps): AnyTask | undefined {
  const names = deps.registry.skills.map((s) => s.skill.name);
  if (names.length === 0) return undefined;
  return defineTask({
    name: 'load_model',
    title: 'Load model',
    description: 'Load a model into memory now, so later calls do not wait for it. For operators.',
    inputSchema: {
      model: skillNameField('Skill to load'),
      pin: z.boolean().optional().describe('Keep it loaded (never unloaded or evicted).'),
    },
    outputSchema: {
      model: z.string(),
      status: z.literal('loaded'),
      device: z.string(),
      dtype: z.string(),
      source: z.string(),
      load_ms: z.number(),
      bytes: z.number(),
      pinned: z.boolean(),
    },
    annotations: { title: 'Load model', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scope: ADMIN_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, TASKS);
      return args;
    },
    cacheable: () => false,
    handler: async (args, ctx) => {
      const already = deps.loader.status(args.model).status === 'loaded';
      const info = await deps.loader.load(args.model, {
        onProgress: ctx.onLoadProgress,
        ...(args.pin !== undefined ? { pin: args.pin } : {}),
      });
      deps.logger.info({ model: args.model, admin: 'load_model', client: ctx.client }, 'admin action');
      return {
        model: info.model,
        status: 'loaded',
        device: info.device,
        dtype: info.dtype,
        source: info.source,
        load_ms: already ? 0 : info.loadMs,
        bytes: info.bytes,
        pinned: info.pinned,
      };
    },
  });
}
