/**
 * @module transports/call
 * `hf-model-server call <tool> '<json>'`: runs one tool once through the task layer's one call
 * path, as a tool call over MCP would, and returns the tool result. The quickest way for a person
 * to try the server: an unknown tool lists the tools, and (as on every front door) an unknown
 * argument key is named with the valid ones.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { App } from '../app.js';
import { ServerError, echo } from '../errors.js';
import { parseArgs, runTask } from '../tasks/task.js';
import { ok } from '../mcp/results.js';
import type { ToolName } from '../config/config.js';

/** Calls `tool` with JSON `args`; throws ServerError('invalid_input') if args is not a JSON object. */
export async function callOnce(app: App, tool: string, args: string): Promise<CallToolResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch (e) {
    throw new ServerError('invalid_input', `arguments are not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ServerError('invalid_input', 'arguments must be a JSON object');
  const { tasks } = app.deps;
  const task = tasks.get(tool as ToolName);
  if (!task) throw new ServerError('unknown_tool', `unknown tool ${echo(tool)}; tools: ${[...tasks.keys()].join(', ')}`);
  const out = await runTask(app.deps, task, parseArgs(task, parsed), { signal: new AbortController().signal });
  return ok(out);
}
