/**
 * @module mcp/sdk-internals
 * Every use of the MCP SDK beyond its public API, in one place. Each one is checked before use
 * and falls back to the public behaviour when the member is gone, so an SDK update can only make
 * the server a little less polished, never broken; `checkSdkInternals()` reports what is missing
 * (logged at startup, and tested against the installed SDK).
 *
 * - `McpServer.createToolError` (private): SDK-made tool errors (invalid arguments, unknown tool)
 *   get the catalog's shape. Fallback: the SDK's plain-text error results.
 * - `McpServer.validateToolOutput` (private): the server does not re-parse its own structured
 *   results per call (the tests validate them through a client). Fallback: the SDK validates.
 * - `Server.isMessageIgnored` (private): request-tied log notifications honour the session's
 *   `logging/setLevel`. Fallback: every such notification is sent.
 * - A transport's `onmessage` fed a `notifications/cancelled` the client never sent: work for a
 *   client that disconnected, or that the server gave up on, is cancelled through the protocol's
 *   own path. Public members only, but not a documented use.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

type ToolErrorHook = { createToolError?: (message: string) => unknown };
type OutputCheckHook = { validateToolOutput?: (...args: unknown[]) => Promise<unknown> };
type LevelFilter = { isMessageIgnored?: (level: string, sessionId?: string) => boolean };

/** Maps the SDK's own tool errors through `toResult`; false when the SDK no longer has the hook. */
export function mapSdkToolErrors(server: McpServer, toResult: (message: string) => CallToolResult): boolean {
  const s = server as unknown as ToolErrorHook;
  if (typeof s.createToolError !== 'function') return false;
  s.createToolError = toResult;
  return true;
}

/** Skips the SDK's per-call re-validation of structured tool output; false when not possible. */
export function skipOutputRevalidation(server: McpServer): boolean {
  const s = server as unknown as OutputCheckHook;
  if (typeof s.validateToolOutput !== 'function') return false;
  s.validateToolOutput = async () => undefined;
  return true;
}

/** Whether the session's log level filters out `level` (false, so sent, when the SDK cannot say). */
export function logLevelIgnores(server: McpServer, level: string, sessionId: string | undefined): boolean {
  const filter = (server.server as unknown as LevelFilter).isMessageIgnored;
  return typeof filter === 'function' ? filter.call(server.server, level, sessionId) : false;
}

/** Cancels a request's work on `transport` as if its client had sent `notifications/cancelled`. */
export function cancelRequest(transport: Transport, requestId: string | number, reason: string): void {
  transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } });
}

/** The private members this module relies on that the installed SDK lacks (empty when all are there). */
export function checkSdkInternals(): string[] {
  const probe = new McpServer({ name: 'probe', version: '0' }, { capabilities: { logging: {} } });
  const missing: string[] = [];
  if (typeof (probe as unknown as ToolErrorHook).createToolError !== 'function') missing.push('McpServer.createToolError');
  if (typeof (probe as unknown as OutputCheckHook).validateToolOutput !== 'function') missing.push('McpServer.validateToolOutput');
  if (typeof (probe.server as unknown as LevelFilter).isMessageIgnored !== 'function') missing.push('Server.isMessageIgnored');
  return missing;
}
