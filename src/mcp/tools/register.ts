/**
 * @module mcp/tools/register
 * Tasks as MCP tools. Each tool is a thin adapter over the task layer's one call path
 * (tasks/task.ts): the task's schemas become the tool's, its arguments are validated by the
 * task layer, the handler context becomes the call options (credentials, cancellation, `_meta`,
 * progress), and the result or the catalogued error becomes a tool result. No tool has a path
 * of its own, so none can skip a check.
 */
import type { McpServer, RegisteredTool, ServerContext, ToolAnnotations } from '@modelcontextprotocol/server';
import type { ServerDeps } from '../deps.js';
import { guarded, ok } from '../results.js';
import { sdkSchema } from '../schemas.js';
import { parseArgs, runTask, type AnyTask, type TaskHints } from '../../tasks/task.js';
import { loadProgress, metaOptions, progressSender } from './progress.js';

/**
 * The header through which the HTTP edge names the client of a request made without
 * credentials (its address or local process). The edge always sets it itself, dropping any the
 * request carried, so a client cannot pose as another.
 */
export const CLIENT_HEADER = 'x-hf-model-server-client';

/**
 * The behaviour hints that say something: MCP reads a missing hint as its default (not read-only,
 * destructive, not idempotent, open world), and the destructive and idempotent hints only for
 * tools that write. The title is the tool's own; repeating it here would only cost context.
 */
export function toolHints(h: TaskHints): ToolAnnotations {
  const out: ToolAnnotations = {};
  if (h.readOnlyHint) out.readOnlyHint = true;
  else {
    if (!h.destructiveHint) out.destructiveHint = false;
    if (h.idempotentHint) out.idempotentHint = true;
  }
  if (!h.openWorldHint) out.openWorldHint = false;
  return out;
}

/** Registers one task as a tool. */
export function registerTaskTool(server: McpServer, deps: ServerDeps, task: AnyTask): RegisteredTool {
  const { name, title, description, inputSchema, outputSchema, annotations } = task;
  const run = async (raw: Record<string, unknown>, ctx: ServerContext) => {
    const args = parseArgs(task, raw);
    const progress = progressSender(ctx);
    const named = ctx.http?.req?.headers.get(CLIENT_HEADER);
    const out = await runTask(deps, task, args, {
      auth: ctx.http?.authInfo,
      client: named ?? undefined,
      signal: ctx.mcpReq.signal,
      ...metaOptions(ctx),
      progress,
      stream: progress ? (piece) => progress(piece) : undefined,
      onLoadProgress: loadProgress(ctx, progress),
    });
    return ok(out);
  };
  return server.registerTool(
    name,
    { title, description, inputSchema: sdkSchema(inputSchema), outputSchema: sdkSchema(outputSchema), annotations: toolHints(annotations) },
    guarded(deps.logger, name, run),
  );
}

/**
 * Registers every task of the set as a tool, and re-registers them whenever the skills change
 * (a tool's model list and default follow the registry; a tool with no model left goes away).
 * Calls already running keep the handler they started with. The server's debounced
 * notifications turn one change into one `tools/list_changed`. Returns the unsubscribe.
 */
export function registerTools(server: McpServer, deps: ServerDeps): () => void {
  let tools: RegisteredTool[] = [];
  const sync = () => {
    for (const t of tools) t.remove();
    tools = [...deps.tasks.values()].map((task) => registerTaskTool(server, deps, task));
  };
  sync();
  // A change that only added or fixed a rejected manifest leaves every tool as it was.
  return deps.onSkillsChanged((c) => {
    if (c.added.length + c.removed.length + c.changed.length > 0) sync();
  });
}
