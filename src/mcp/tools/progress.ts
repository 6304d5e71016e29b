/**
 * @module mcp/tools/progress
 * The MCP side of a call's side channels: progress notifications (strictly rising `progress`,
 * with `message` carrying a phase or a piece of text), request-scoped log messages, and the
 * `_meta` options a client may send (priority, timeout_ms, cache).
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import type { Priority } from '../../runtime/batcher.js';
import type { LoadProgress, Progress } from '../../tasks/task.js';

/** A per-request progress channel; undefined when the client sent no progress token. */
export function progressSender(ctx: ServerContext): Progress | undefined {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return undefined;
  let n = 0;
  const send: Progress = (message, total) => {
    n += 1;
    void ctx.mcpReq
      .notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: n, ...(total !== undefined ? { total } : {}), message },
      })
      .catch(() => undefined);
  };
  return send;
}

/**
 * A log message tied to this request (it rides the request's own stream, so it reaches the
 * client in stateless HTTP too); the SDK applies the client's level (`logging/setLevel` on a
 * 2025-era session, the request's own level on 2026-07-28).
 */
export function requestLog(ctx: ServerContext, level: 'debug' | 'info' | 'warning' | 'error', data: Record<string, unknown>): void {
  void ctx.mcpReq.log(level, data, 'hf-model-server').catch(() => undefined);
}

/**
 * Load progress (download per file, session creation): progress notifications and request logs.
 * Pass the request's progress channel when the tool also sends progress, so numbers keep rising.
 */
export function loadProgress(ctx: ServerContext, send: Progress | undefined = progressSender(ctx)): LoadProgress {
  let logged = false;
  return (p) => {
    if (!logged) {
      logged = true;
      requestLog(ctx, 'info', { event: 'loading_model', phase: p.phase });
    }
    if (p.phase === 'ready') requestLog(ctx, 'info', { event: 'model_ready' });
    send?.(`loading model: ${p.phase}${p.file ? ` ${p.file}` : ''}${p.progress !== undefined ? ` ${Math.round(p.progress)}%` : ''}`);
  };
}

/** The call options a client sends in `_meta`: priority (high, normal, low), timeout_ms, cache, allow_lower_quality. */
export function metaOptions(ctx: ServerContext): {
  priority: Priority;
  timeoutMs: number | undefined;
  cache: boolean;
  allowLowerQuality: boolean;
} {
  const meta = (ctx.mcpReq._meta ?? {}) as Record<string, unknown>;
  const p = meta.priority;
  const t = Number(meta.timeout_ms);
  return {
    priority: p === 'high' || p === 'low' ? p : 'normal',
    timeoutMs: Number.isFinite(t) && t > 0 ? t : undefined,
    cache: meta.cache !== false,
    allowLowerQuality: meta.allow_lower_quality === true,
  };
}
