/**
 * @module mcp/tools/register
 * Tasks as MCP tools. Each tool is a thin adapter over the task layer's one call path
 * (tasks/task.ts): the task's schemas become the tool's, the request's `extra` becomes the
 * call options (credentials, cancellation, `_meta`, progress), and the result or the catalogued
 * error becomes a tool result. No tool has a path of its own, so none can skip a check.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerDeps } from '../deps.js';
import { guarded } from '../results.js';
import { runTask, type AnyTask } from '../../tasks/task.js';
import { loadProgress, metaOptions, progressSender, type ToolExtra } from './progress.js';

/** Registers one task as a tool. */
export function registerTaskTool(server: McpServer, deps: ServerDeps, task: AnyTask): void {
  const { name, title, description, inputSchema, outputSchema, annotations } = task;
  const run = async (args: Record<string, unknown>, extra: ToolExtra) => {
    const progress = progressSender(extra);
    const out = await runTask(deps, task, args, {
      auth: extra.authInfo,
      signal: extra.signal,
      ...metaOptions(extra),
      progress,
      stream: progress ? (piece) => progress(piece) : undefined,
      onLoadProgress: loadProgress(server, extra, progress),
    });
    return deps.results.ok(out);
  };
  const register = server.registerTool.bind(server) as (...a: unknown[]) => unknown;
  register(name, { title, description, inputSchema, outputSchema, annotations }, guarded(deps.logger, name, run));
}

/** Registers every task of the set as a tool. */
export function registerTools(server: McpServer, deps: ServerDeps): void {
  for (const task of deps.tasks.values()) registerTaskTool(server, deps, task);
}
