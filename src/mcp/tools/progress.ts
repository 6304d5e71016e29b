/**
 * @module mcp/tools/progress
 * The MCP side of a call's side channels: progress notifications (strictly rising `progress`,
 * with `message` carrying a phase or a piece of text), request-scoped log messages, and the
 * `_meta` options a client may send (priority, timeout_ms, cache).
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Priority } from '../../runtime/batcher.js';
import type { LoadProgress, Progress } from '../../tasks/task.js';
import { logLevelIgnores } from '../sdk-internals.js';

/** The `extra` argument of a tool handler. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A per-request progress channel; undefined when the client sent no progress token. */
export function progressSender(extra: ToolExtra): Progress | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let n = 0;
  const send: Progress = (message, total) => {
    n += 1;
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: n, ...(total !== undefined ? { total } : {}), message },
      })
      .catch(() => undefined);
  };
  return send;
}

/**
 * A log message tied to this request (MCP `notifications/message` with the request's id, so it
 * reaches the client even in stateless HTTP); the client's `logging/setLevel` filters it.
 */
export function requestLog(
  server: McpServer,
  extra: ToolExtra,
  level: 'debug' | 'info' | 'warning' | 'error',
  data: Record<string, unknown>,
): void {
  if (logLevelIgnores(server, level, extra.sessionId)) return;
  void extra
    .sendNotification({ method: 'notifications/message', params: { level, logger: 'hf-model-server', data } })
    .catch(() => undefined);
}

/**
 * Load progress (download per file, session creation): progress notifications and request logs.
 * Pass the request's progress channel when the tool also sends progress, so numbers keep rising.
 */
export function loadProgress(server: McpServer, extra: ToolExtra, send: Progress | undefined = progressSender(extra)): LoadProgress {
  let logged = false;
  return (p) => {
    if (!logged) {
      logged = true;
      requestLog(server, extra, 'info', { event: 'loading_model', phase: p.phase });
    }
    if (p.phase === 'ready') requestLog(server, extra, 'info', { event: 'model_ready' });
    send?.(`loading model: ${p.phase}${p.file ? ` ${p.file}` : ''}${p.progress !== undefined ? ` ${Math.round(p.progress)}%` : ''}`);
  };
}

/** The call options a client sends in `_meta`: priority (high, normal, low), timeout_ms, cache. */
export function metaOptions(extra: ToolExtra): { priority: Priority; timeoutMs: number | undefined; cache: boolean } {
  const meta = (extra._meta ?? {}) as Record<string, unknown>;
  const p = meta.priority;
  const t = Number(meta.timeout_ms);
  return {
    priority: p === 'high' || p === 'low' ? p : 'normal',
    timeoutMs: Number.isFinite(t) && t > 0 ? t : undefined,
    cache: meta.cache !== false,
  };
}
