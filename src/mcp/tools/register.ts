/**
 * @module mcp/tools/register
 * Tasks as MCP tools. Each tool is a thin adapter over the task layer's one call path
 * (tasks/task.ts): the task's schemas become the tool's, its arguments are validated by the
 * task layer, the handler context becomes the call options (credentials, cancellation, `_meta`,
 * progress), and the result or the catalogued error becomes a tool result. No tool has a path
 * of its own, so none can skip a check.
 *
 * `tools/call` is served by one handler of ours rather than the SDK's, because a call may be
 * answered with a task (mcp/tasks.ts), which the SDK's handler cannot return; the SDK still lists
 * the tools and announces their changes.
 */
import {
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type McpServer,
  type RegisteredTool,
  type ServerContext,
  type ToolAnnotations,
} from '@modelcontextprotocol/server';
import type { ToolName } from '../../config/config.js';
import type { ServerDeps } from '../deps.js';
import { fail, guarded, ok } from '../results.js';
import { TASK_TOOLS, declaresTasks, registerTaskMethods } from '../tasks.js';
import { parseArgs, runTask, type AnyTask, type CallOptions, type TaskHints } from '../../tasks/task.js';
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
 * tools that write. No tool claims a closed world: media tools fetch URLs under --allow-urls and
 * loading a model may download it. The title is the tool's own; repeating it here would only
 * cost context.
 */
export function toolHints(h: TaskHints): ToolAnnotations {
  const out: ToolAnnotations = {};
  if (h.readOnlyHint) out.readOnlyHint = true;
  else {
    if (!h.destructiveHint) out.destructiveHint = false;
    if (h.idempotentHint) out.idempotentHint = true;
  }
  return out;
}

/** Who calls: the credential, else the client the HTTP edge named, else the local user (stdio). */
function callerOf(ctx: Pick<ServerContext, 'http'>): { auth: CallOptions['auth']; client: string | undefined; owner: string } {
  const auth = ctx.http?.authInfo;
  const client = ctx.http?.req?.headers.get(CLIENT_HEADER) ?? undefined;
  return { auth, client, owner: auth?.clientId ?? client ?? 'local' };
}

/** Runs one call of `task` with the given call options; any failure becomes an error result. */
function runner(deps: ServerDeps, task: AnyTask): (raw: Record<string, unknown>, call: CallOptions) => Promise<CallToolResult> {
  return guarded(deps.logger, task.name, async (raw: Record<string, unknown>, call: CallOptions) =>
    ok(await runTask(deps, task, parseArgs(task, raw), call)),
  );
}

/** The call options of a request answered in place: its signal, progress token and `_meta`. */
function requestCall(ctx: ServerContext): CallOptions {
  const progress = progressSender(ctx);
  const { auth, client } = callerOf(ctx);
  return {
    auth,
    client,
    signal: ctx.mcpReq.signal,
    ...metaOptions(ctx),
    progress,
    stream: progress ? (piece) => progress(piece) : undefined,
    onLoadProgress: loadProgress(ctx, progress),
  };
}

/** Registers one task as a tool (for the listing; calls go through {@link serveToolCalls}). */
export function registerTaskTool(server: McpServer, deps: ServerDeps, task: AnyTask): RegisteredTool {
  const { name, title, description, inputSchema, outputSchema, annotations } = task;
  const run = runner(deps, task);
  return server.registerTool(
    name,
    {
      title,
      description,
      inputSchema: deps.toolSchemas.of(inputSchema),
      ...(deps.config.outputSchemas ? { outputSchema: deps.toolSchemas.of(outputSchema) } : {}),
      annotations: toolHints(annotations),
    },
    (args: Record<string, unknown>, ctx: ServerContext) => run(args, requestCall(ctx)),
  );
}

/**
 * Answers `tools/call`: an unknown tool is a protocol error listing the tools; a long tool called
 * by a client that declared the tasks extension returns a task at once; anything else runs in place.
 */
function serveToolCalls(server: McpServer, deps: ServerDeps): void {
  server.server.removeRequestHandler('tools/call');
  server.server.setRequestHandler('tools/call', async (req, ctx) => {
    const { name } = req.params;
    const task = deps.tasks.get(name as ToolName);
    if (!task)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Unknown tool ${JSON.stringify(name.slice(0, 80))}; the tools are: ${[...deps.tasks.keys()].join(', ')}`,
      );
    const run = runner(deps, task);
    const args = req.params.arguments ?? {};
    if (!TASK_TOOLS.has(task.name) || !declaresTasks(ctx.mcpReq.envelope)) return run(args, requestCall(ctx));
    const { auth, client, owner } = callerOf(ctx);
    try {
      const created = deps.toolTasks.start(owner, (signal, status) => {
        let chars = 0;
        return run(args, {
          auth,
          client,
          signal,
          ...metaOptions(ctx),
          progress: (message) => status(message),
          stream: (piece) => status(`${(chars += piece.length)} characters so far`),
          onLoadProgress: (p) => status(`loading model: ${p.phase}${p.progress !== undefined ? ` ${Math.round(p.progress)}%` : ''}`),
        });
      });
      return { resultType: 'task', ...created } as unknown as CallToolResult;
    } catch (e) {
      return fail(e);
    }
  });
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
  serveToolCalls(server, deps);
  registerTaskMethods(server, deps.toolTasks, (ctx) => callerOf(ctx as Pick<ServerContext, 'http'>).owner);
  // A change that only added or fixed a rejected manifest leaves every tool as it was.
  return deps.onSkillsChanged((c) => {
    if (c.added.length + c.removed.length + c.changed.length > 0) sync();
  });
}
