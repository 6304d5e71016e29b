/**
 * @module mcp/tools/register
 * The one call path of every tool: scope check, argument checks, response cache, deadline, then
 * the tool's own work, and the result or a catalogued error. A tool is a schema and a handler
 * registered through {@link registerTaskTool}, so no tool can forget its scope or its deadline,
 * and a test can check all of them by listing the tools.
 */
import type { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ToolName } from '../../config/config.js';
import type { Priority } from '../../runtime/batcher.js';
import type { ServerDeps } from '../deps.js';
import { guarded } from '../results.js';
import { requireScope } from '../scopes.js';
import { cached, loadProgress, priorityOf, progressSender, withDeadline, type Progress, type ToolExtra } from './common.js';

/** What a handler gets besides its arguments. */
export interface TaskContext {
  /** Fires on client cancellation or at the deadline. */
  signal: AbortSignal;
  priority: Priority;
  /** The request's progress channel, when the client asked for progress. */
  progress: Progress | undefined;
  /** Model-load progress on the same channel (and as request logs). */
  onLoadProgress: ReturnType<typeof loadProgress>;
  /** Who called (`local` over stdio), for the audit log. */
  client: string;
  /** The executor's run options for this call: signal, priority, load progress. */
  run: { signal: AbortSignal; priority: Priority; onLoadProgress: ReturnType<typeof loadProgress> };
}

/** A tool: its MCP description, the scope it needs, and its work. */
export interface TaskToolSpec<I extends z.ZodRawShape, O extends z.ZodRawShape, A extends Record<string, unknown> & { model: string }> {
  name: ToolName;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
  /** The scope the caller needs (mcp/scopes.ts). */
  scope: string;
  /**
   * Checks that need no model run (model lookup, limits, argument combinations), returning the
   * arguments the call runs with (e.g. with a default model resolved); they key the cache.
   */
  prepare: (args: z.infer<z.ZodObject<I>>) => A;
  /** Whether the same arguments always give the same answer, so the response cache may serve it. */
  cacheable: (args: A) => boolean;
  /** The work, under the deadline. */
  handler: (args: A, ctx: TaskContext) => Promise<Record<string, unknown>>;
}

/** Registers a tool on the one call path. */
export function registerTaskTool<I extends z.ZodRawShape, O extends z.ZodRawShape, A extends Record<string, unknown> & { model: string }>(
  server: McpServer,
  deps: ServerDeps,
  spec: TaskToolSpec<I, O, A>,
): void {
  const { name, title, description, inputSchema, outputSchema, annotations } = spec;
  const run = async (raw: z.infer<z.ZodObject<I>>, extra: ToolExtra) => {
    requireScope(extra.authInfo, spec.scope);
    const args = spec.prepare(raw);
    const out = await cached(deps, extra, name, args, spec.cacheable(args), () =>
      withDeadline(deps.config, extra, (signal) => {
        const progress = progressSender(extra);
        const priority = priorityOf(extra);
        const onLoadProgress = loadProgress(server, extra, progress);
        return spec.handler(args, {
          signal,
          priority,
          progress,
          onLoadProgress,
          client: extra.authInfo?.clientId ?? 'local',
          run: { signal, priority, onLoadProgress },
        });
      }),
    );
    return deps.results.ok(out);
  };
  const register = server.registerTool.bind(server) as (...a: unknown[]) => unknown;
  register(
    name,
    { title, description, inputSchema, outputSchema, annotations },
    guarded(deps.logger, name, run as (args: unknown, extra: ToolExtra) => ReturnType<typeof run>),
  );
}
