/**
 * @module rest/common
 * What every REST route does the same way: validating a body against its zod schema, finding
 * the task a route adapts, naming models (a skill name, or the Hub id a skill serves), and
 * turning a request into the task layer's call options.
 */
import type { z } from 'zod';
import type { ToolName } from '../config/config.js';
import { ServerError, toServerError } from '../errors.js';
import type { Task } from '../skills/schema.js';
import { parseArgs, runTask, type AnyTask, type CallOptions } from '../tasks/task.js';
import type { RestCall, RestDeps } from './route.js';

/** Parses a body against `schema`; failures are `invalid_input` naming the first fields. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const first = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new ServerError('invalid_input', `invalid request: ${first.join('; ')}`, {
    details: { field: r.error.issues[0]?.path.join('.') || undefined },
  });
}

/** The enabled task `name`; a task turned off with --tools, or with no model, is `not_found`. */
export function taskOf(deps: RestDeps, name: ToolName): AnyTask {
  const task = deps.tasks.get(name);
  if (!task) throw new ServerError('not_found', `${name} is not enabled on this server (no model serves it, or --tools leaves it out)`);
  return task;
}

/**
 * The skill a client means by `model`: a skill name as is; else the name of a skill serving one
 * of `tasks` whose Hub id is `model` (clients often send the Hub id). Anything else is passed on,
 * so the task answers `unknown_model` with the valid names.
 */
export function skillName(deps: RestDeps, model: string | undefined, tasks: readonly Task[]): string | undefined {
  if (model === undefined || deps.registry.get(model)) return model;
  const byId = deps.registry.skills.find((s) => s.skill.model.id === model && s.skill.tasks.some((t) => tasks.includes(t)));
  return byId?.skill.name ?? model;
}

/** The call options of a REST request. */
export function callOptions(call: RestCall, extra: Partial<CallOptions> = {}): CallOptions {
  const t = Number(call.req.headers['x-request-timeout-ms']);
  return {
    auth: call.auth,
    client: call.client,
    signal: call.signal,
    timeoutMs: Number.isFinite(t) && t > 0 ? t : undefined,
    cache: call.req.headers['cache-control'] !== 'no-cache',
    ...extra,
  };
}

/** Runs task `name` on raw arguments (validated against the task's schema) for a REST request. */
export async function runFor(
  deps: RestDeps,
  call: RestCall,
  name: ToolName,
  args: Record<string, unknown>,
  extra: Partial<CallOptions> = {},
): Promise<Record<string, unknown>> {
  const task = taskOf(deps, name);
  // Work stopped by the request's signal ends as `cancelled` or, for a generation, with what it
  // has; the request was given up (client gone, request timeout, shutdown), so the answer is that
  // reason, not a partial success.
  const givenUp = () => (call.signal.aborted ? toServerError(call.signal.reason) : undefined);
  let out: Record<string, unknown>;
  try {
    out = await runTask(deps, task, parseArgs(task, stripUndefined(args)), callOptions(call, extra));
  } catch (e) {
    throw givenUp() ?? e;
  }
  const reason = givenUp();
  if (reason) throw reason;
  return out;
}

/** A copy without undefined values (so a schema's defaults apply). */
export function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}
