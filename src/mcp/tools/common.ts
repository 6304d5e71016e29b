/**
 * @module mcp/tools/common
 * Pieces every tool shares: the `model` argument (an enum of the discovered skills for the
 * tool's tasks, defaulting to the task's default skill), the documented input limits, and MCP
 * progress notifications.
 */
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Config } from '../../config/config.js';
import { ServerError, echo } from '../../errors.js';
import { logLevelIgnores } from '../sdk-internals.js';
import type { Registry } from '../../skills/registry.js';
import type { Skill, Task } from '../../skills/schema.js';
import type { Priority } from '../../runtime/batcher.js';
import type { ResponseCache } from '../../resilience/cache.js';

/** The `extra` argument of a tool handler. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Names of skills serving any of `tasks`, the default first; empty when none. */
export function modelsFor(registry: Registry, tasks: readonly Task[]): string[] {
  const names: string[] = [];
  for (const t of tasks) for (const s of registry.forTask(t)) if (!names.includes(s.skill.name)) names.push(s.skill.name);
  return names;
}

/**
 * A `model` argument: a string whose JSON Schema enumerates `names` (so clients and agents see
 * the choices), defaulting to the first. Validation is left to {@link skillFor}, so an unknown
 * or wrong-task model gets its own error code and a message listing the valid ones.
 */
export function modelField(names: string[], what: string, withDefault = true) {
  const field = z.string().meta({ enum: names });
  return (withDefault ? field.default(names[0]!) : field).describe(withDefault ? `${what} Default: ${names[0]}.` : what);
}

/** The skill named `name`, checked to serve one of `tasks`; throws unknown_model / unsupported_task. */
export function skillFor(registry: Registry, name: string, tasks: readonly Task[]): Skill {
  const reg = registry.get(name);
  if (reg && reg.skill.tasks.some((t) => tasks.includes(t))) return reg.skill;
  const valid = modelsFor(registry, tasks);
  if (!reg) throw new ServerError('unknown_model', `unknown model ${echo(name)}; valid: ${valid.join(', ')}`);
  if (!reg.skill.tasks.some((t) => tasks.includes(t))) {
    throw new ServerError(
      'unsupported_task',
      `model "${name}" serves ${reg.skill.tasks.join(', ')}, not ${tasks.join(' / ')}; valid: ${valid.join(', ')}`,
    );
  }
  return reg.skill;
}

/** Checks the documented list and length limits for texts. */
export function checkTexts(texts: string[], field: string, limits: Config['limits']): void {
  if (texts.length > limits.maxTexts) {
    throw new ServerError('input_too_large', `${field} has ${texts.length} items; the limit is ${limits.maxTexts} per call`);
  }
  texts.forEach((t, i) => {
    if (t.length > limits.maxTextChars) {
      throw new ServerError('input_too_large', `${field}[${i}] has ${t.length} characters; the limit is ${limits.maxTextChars}`);
    }
    if (t.trim().length === 0) throw new ServerError('invalid_input', `${field}[${i}] is empty`);
  });
}

/**
 * A per-request progress channel: each call sends a notification whose `progress` is strictly
 * greater than the last (as MCP requires), with `message` carrying the text or phase.
 * Undefined when the client sent no progress token.
 */
export type Progress = (message: string, total?: number) => void;

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
export function loadProgress(server: McpServer, extra: ToolExtra, send: Progress | undefined = progressSender(extra)) {
  let logged = false;
  return (p: { phase: string; file?: string; progress?: number }) => {
    if (!logged) {
      logged = true;
      requestLog(server, extra, 'info', { event: 'loading_model', phase: p.phase });
    }
    if (p.phase === 'ready') requestLog(server, extra, 'info', { event: 'model_ready' });
    send?.(`loading model: ${p.phase}${p.file ? ` ${p.file}` : ''}${p.progress !== undefined ? ` ${Math.round(p.progress)}%` : ''}`);
  };
}

/** Read-only, deterministic inference tool annotations. */
export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** Usage (token counts) output schema. */
export const UsageSchema = z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }).describe('Tokens processed.');

/** Request priority from `_meta.priority` (high, normal or low); normal when absent or invalid. */
export function priorityOf(extra: ToolExtra): Priority {
  const p = (extra._meta as Record<string, unknown> | undefined)?.priority;
  return p === 'high' || p === 'low' ? p : 'normal';
}

/**
 * Serves a deterministic call from the response cache, or computes and stores it. A call opts
 * out with `_meta.cache: false`; `cacheable: false` (e.g. unseeded sampling) bypasses it.
 */
export async function cached(
  deps: { cache: ResponseCache; registry: Registry },
  extra: ToolExtra,
  tool: string,
  args: Record<string, unknown> & { model: string },
  cacheable: boolean,
  compute: () => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const optOut = (extra._meta as Record<string, unknown> | undefined)?.cache === false;
  if (!cacheable || optOut || !deps.cache.enabled) return compute();
  const revision = deps.registry.get(args.model)?.skill.model.revision ?? 'main';
  const key = deps.cache.key(tool, args.model, revision, args);
  const hit = deps.cache.get(key);
  if (hit) return hit;
  const value = await compute();
  if (value.finish_reason !== 'cancelled') deps.cache.set(key, value);
  return value;
}

/**
 * Runs `fn` under the call's deadline: the configured `--deadline`, shortened by
 * `_meta.timeout_ms`. The signal passed to `fn` fires on client cancellation or at the
 * deadline; a deadline becomes the retryable `timeout` error. Queued work is dropped and a
 * generation stops between tokens, freeing its slot.
 */
export async function withDeadline<T>(
  config: { deadlineMs: number },
  extra: ToolExtra,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const asked = Number((extra._meta as Record<string, unknown> | undefined)?.timeout_ms);
  const ms = Number.isFinite(asked) && asked > 0 ? Math.min(asked, config.deadlineMs) : config.deadlineMs;
  const ac = new AbortController();
  const onAbort = () => ac.abort(extra.signal.reason);
  if (extra.signal.aborted) onAbort();
  else extra.signal.addEventListener('abort', onAbort, { once: true });
  // The error is made only if the deadline passes: building an Error (its stack) on every call is not free.
  let deadline: ServerError | undefined;
  const timer = setTimeout(() => {
    deadline = new ServerError('timeout', `the call passed its ${ms} ms deadline`, { retryAfterMs: 1000 });
    ac.abort(deadline);
  }, ms);
  try {
    const out = await fn(ac.signal);
    if (deadline) throw deadline;
    return out;
  } catch (e) {
    if (deadline) throw deadline;
    throw e;
  } finally {
    clearTimeout(timer);
    extra.signal.removeEventListener('abort', onAbort);
  }
}
