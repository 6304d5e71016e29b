/**
 * @module mcp/tools/unload-model
 * `unload_model`: frees a loaded model. A model with requests in flight is unloaded as soon as
 * they finish (`deferred`); nothing in flight is lost.
 */
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerDeps } from '../deps.js';
import { guarded } from '../results.js';
import { ADMIN_SCOPE, requireScope } from '../scopes.js';
import { modelField, skillFor } from './common.js';
import { TASKS } from '../../skills/schema.js';

export function registerUnloadModelTool(server: McpServer, deps: ServerDeps): void {
  const names = deps.registry.skills.map((s) => s.skill.name);
  if (names.length === 0) return;
  server.registerTool(
    'unload_model',
    {
      title: 'Unload model',
      description: 'Unload a model to free memory. Work in flight finishes first. For operators.',
      inputSchema: { model: modelField(names, 'Skill to unload.', false) },
      outputSchema: {
        model: z.string().describe('Skill name.'),
        result: z.enum(['unloaded', 'deferred', 'not_loaded']).describe('deferred: unloads when its requests in flight finish.'),
      },
      annotations: { title: 'Unload model', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guarded(deps.logger, 'unload_model', async (args, extra) => {
      requireScope(extra.authInfo, ADMIN_SCOPE);
      skillFor(deps.registry, args.model, TASKS);
      const result = await deps.loader.unload(args.model);
      deps.logger.info({ model: args.model, admin: 'unload_model', client: extra.authInfo?.clientId ?? 'local', result }, 'admin action');
      return deps.results.ok({ model: args.model, result });
    }),
  );
}
