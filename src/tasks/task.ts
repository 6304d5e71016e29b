/**
 * @module tasks/task
 * The one call path of every task, whichever front door it came through (an MCP tool, a REST
 * route, the CLI): scope check, argument checks, response cache, deadline, then the task's own
 * work, and a typed result or a `ServerError`. A task is data, a {@link TaskSpec}; front doors
 * call {@link runTask} and never repeat its steps, so none can forget a scope or a deadline.
 */
import { z } from 'zod';
import type { ToolName } from '../config/config.js';
import { ServerError, echo, toServerError } from '../errors.js';
import type { Priority } from '../runtime/batcher.js';
import type { RunOptions } from '../runtime/executor.js';
import { cached, choicesOf, withDeadline } from './common.js';
import type { TaskDeps } from './deps.js';
import { requireScope } from './scopes.js';

/** A status channel: each call reports a phase or a piece of text. */
export type Progress = (message: string, total?: number) => void;

/** Model-load progress (download per file, session creation). */
export type LoadProgress = NonNullable<RunOptions['onLoadProgress']>;

/** What a front door passes with a call. */
export interface CallOptions {
  /** The caller's credentials; undefined for the local user (stdio, CLI), who needs no scope. */
  auth?: { scopes: string[]; clientId?: string | undefined } | undefined;
  /**
   * Who calls when no credentials say so (an HTTP client's address or local process), for a fair
   * share of the model queues and the audit log.
   */
  client?: string | undefined;
  /** Fires when the caller goes away or cancels. */
  signal: AbortSignal;
  priority?: Priority | undefined;
  /** A deadline the caller asks for, in ms; it can only shorten `--deadline`. */
  timeoutMs?: number | undefined;
  /** false: do not serve or store this call in the response cache. */
  cache?: boolean | undefined;
  /** Status messages (load phases, streamed text) for callers that show progress. */
  progress?: Progress | undefined;
  /** Generated text as it comes (text generation). */
  stream?: ((piece: string) => void) | undefined;
  /** Model-load progress. */
  onLoadProgress?: LoadProgress | undefined;
  /** `model: "auto"` may choose below the best quality tier that can serve the call. */
  allowLowerQuality?: boolean | undefined;
}

/** What a handler gets besides its arguments. */
export interface TaskContext {
  /** Fires on cancellation or at the deadline. */
  signal: AbortSignal;
  priority: Priority;
  progress: Progress | undefined;
  stream: ((piece: string) => void) | undefined;
  onLoadProgress: LoadProgress | undefined;
  /** Who called (`local` over stdio), for the audit log. */
  client: string;
  /** The executor's run options for this call: signal, priority, load progress. */
  run: RunOptions;
}

/** Behaviour hints for clients (the MCP tool annotations). */
export interface TaskHints {
  title: string;
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** A task: its description, its argument and result schemas, the scope it needs, and its work. */
export interface TaskSpec<I extends z.ZodRawShape, O extends z.ZodRawShape, A extends Record<string, unknown> & { model: string }> {
  name: ToolName;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: TaskHints;
  /** The scope the caller needs (tasks/scopes.ts). */
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

/** Any task, as the front doors see it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTask = TaskSpec<any, any, any> & {
  /** The arguments' schema, unknown keys refused; built once, as zod compiles a schema on its first parse. */
  readonly argsSchema: z.ZodType<Record<string, unknown>>;
};

/** Declares a task (it lets TypeScript infer the argument types). */
export function defineTask<I extends z.ZodRawShape, O extends z.ZodRawShape, A extends Record<string, unknown> & { model: string }>(
  spec: TaskSpec<I, O, A>,
): AnyTask {
  const argsSchema = z.object(spec.inputSchema).strict() as unknown as AnyTask['argsSchema'];
  return { ...(spec as unknown as Omit<AnyTask, 'argsSchema'>), argsSchema };
}

/**
 * Validates raw arguments against a task's schema; failures are `invalid_input` naming the field.
 * A key the tool does not have is named with the valid ones, on every front door: a misspelt
 * argument would otherwise fall back to its default without a word.
 */
export function parseArgs(task: AnyTask, raw: unknown): Record<string, unknown> {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const known = Object.keys(task.inputSchema);
    const unknown = Object.keys(raw).filter((k) => !known.includes(k));
    if (unknown.length > 0)
      throw new ServerError(
        'invalid_input',
        `unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => echo(k)).join(', ')} for ${task.name}; valid: ${known.join(', ')}`,
      );
  }
  const parsed = task.argsSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`);
  throw new ServerError('invalid_input', `invalid arguments for ${task.name}: ${first.join('; ')}`);
}

/** Runs a task on validated arguments. */
export async function runTask(
  deps: TaskDeps,
  task: AnyTask,
  args: Record<string, unknown>,
  call: CallOptions,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  // Every call is counted once, failures included, under its model when that is a known skill
  // (an unknown name is counted as "none", so hostile names cannot grow the label set).
  let model = typeof args.model === 'string' && deps.registry.get(args.model) ? args.model : 'none';
  const hardware = () => deps.loader.deviceOf(model) ?? 'none';
  let routedModel: string | undefined;
  try {
    requireScope(call.auth, task.scope);
    const routed = args.model === 'auto' ? route(deps, task, args, call) : undefined;
    const prepared = (routed ?? task.prepare(args)) as Record<string, unknown> & { model: string };
    model = prepared.model;
    if (routed) routedModel = model;
    const out = await execute(deps, task, prepared, call);
    const ms = performance.now() - t0;
    deps.metrics.observeRequest(model, hardware(), 'ok', ms / 1000);
    if (routed) deps.router.observe(task.name, model, hardware(), ms, unitsOf(prepared, out));
    return out;
  } catch (e) {
    const code = toServerError(e).code;
    deps.metrics.observeRequest(model, hardware(), code);
    if (routedModel && MODEL_FAULTS.has(code)) deps.router.fail(task.name, routedModel);
    throw e;
  }
}

/** Failures that say something about the model that served (not about the caller's input). */
const MODEL_FAULTS: ReadonlySet<string> = new Set([
  'model_load_failed',
  'inference_failed',
  'insufficient_memory',
  'model_unavailable',
  'timeout',
  'overloaded',
  'internal',
]);

/**
 * Resolves `model: "auto"`: the candidates are the models the tool offers that can serve these
 * arguments (their `prepare` accepts them), with their quality tiers; the router picks one. The
 * call's arguments come back prepared for that model.
 */
function route(deps: TaskDeps, task: AnyTask, args: Record<string, unknown>, call: CallOptions): Record<string, unknown> {
  const prepared = new Map<string, Record<string, unknown>>();
  let firstError: unknown;
  for (const model of choicesOf(task.inputSchema.model)) {
    try {
      prepared.set(model, task.prepare({ ...args, model }) as Record<string, unknown>);
    } catch (e) {
      firstError ??= e;
    }
  }
  if (prepared.size === 0) throw firstError ?? new ServerError('unsupported_task', `no model can serve this ${task.name} call`);
  const candidates = [...prepared.keys()].map((model) => ({ model, quality: deps.registry.get(model)?.skill.quality ?? 0 }));
  const key = typeof args.route_key === 'string' ? args.route_key : undefined;
  const { model } = deps.router.choose(task.name, candidates, { key, allowLowerQuality: call.allowLowerQuality });
  deps.metrics.routeChoices.inc({ tool: task.name, model });
  return prepared.get(model)!;
}

/** Units of work in a call, for latency per unit: generated tokens, else texts or documents, else 1. */
function unitsOf(args: Record<string, unknown>, out: Record<string, unknown>): number {
  const generated = (out.usage as { completion_tokens?: unknown } | undefined)?.completion_tokens;
  if (typeof generated === 'number' && generated > 0) return generated;
  for (const k of ['texts', 'documents', 'pairs', 'token_ids']) if (Array.isArray(args[k])) return (args[k] as unknown[]).length || 1;
  return 1;
}

/** A prepared call: from the response cache, or run under the deadline. */
function execute(
  deps: TaskDeps,
  task: AnyTask,
  prepared: Record<string, unknown> & { model: string },
  call: CallOptions,
): Promise<Record<string, unknown>> {
  return cached(deps, task.name, prepared, task.cacheable(prepared) && call.cache !== false, () =>
    withDeadline(deps.config, call, (signal) => {
      const priority = call.priority ?? 'normal';
      const client = call.auth?.clientId ?? call.client ?? 'local';
      const run: RunOptions = { signal, priority, client, onLoadProgress: call.onLoadProgress };
      return task.handler(prepared, {
        signal,
        priority,
        progress: call.progress,
        stream: call.stream,
        onLoadProgress: call.onLoadProgress,
        client,
        run,
      });
    }),
  );
}
