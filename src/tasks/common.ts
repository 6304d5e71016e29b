/**
 * @module tasks/common
 * Pieces every task shares: the `model` argument (an enum of the discovered skills for the
 * task, defaulting to the task's default skill), the documented input limits, the response
 * cache and the deadline.
 */
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { ServerError, echo } from '../errors.js';
import type { Registry } from '../skills/registry.js';
import type { Skill, Task } from '../skills/schema.js';
import type { ResponseCache } from '../resilience/cache.js';

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
export function modelField(names: string[], what: string, withDefault = true, routable = true) {
  // "auto" lets the router choose (runtime/router.ts); it is offered where there is a choice.
  const field = z.string().meta({ enum: routable && names.length > 1 ? [...names, 'auto'] : names });
  // The default is in the schema itself; saying it again in words costs every agent tokens.
  return (withDefault ? field.default(names[0]!) : field).describe(what);
}

/**
 * The `model` field of an operator tool, which acts on any skill: a name without an enum, as the
 * list of every skill would cost each agent's context on every call while an unknown name is
 * answered with the valid ones (and `hf://models` lists them).
 */
export function skillNameField(what: string) {
  return z.string().min(1).max(200).describe(`${what} (a name from hf://models)`);
}

/** The model names a task's `model` field offers (its enum), "auto" left out. */
export function choicesOf(field: unknown): string[] {
  let f = field as { meta?: () => { enum?: unknown } | undefined; def?: { innerType?: unknown } } | undefined;
  while (f) {
    const names = f.meta?.()?.enum;
    if (Array.isArray(names)) return names.filter((n): n is string => typeof n === 'string' && n !== 'auto');
    f = f.def?.innerType as typeof f;
  }
  return [];
}

/** The skill named `name`, checked to serve one of `tasks`; throws unknown_model / unsupported_task. */
export function skillFor(registry: Registry, name: string, tasks: readonly Task[]): Skill {
  const reg = registry.get(name);
  if (reg && reg.skill.tasks.some((t) => tasks.includes(t))) return reg.skill;
  const valid = modelsFor(registry, tasks);
  if (!reg) throw new ServerError('unknown_model', `unknown model ${echo(name)}; valid: ${valid.join(', ')}`);
  throw new ServerError(
    'unsupported_task',
    `model "${name}" serves ${reg.skill.tasks.join(', ')}, not ${tasks.join(' / ')}; valid: ${valid.join(', ')}`,
  );
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

/** Read-only, deterministic inference hints. */
export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** Usage (token counts) output schema. */
/**
 * A number or null, written in JSON Schema as `anyOf: [{type: number}, {type: null}]`. zod folds
 * `z.number().nullable()` into `type: ["number", "null"]`, a form strict MCP checkers (the
 * Inspector's --strict) flag as less portable; a keyword on the number keeps the two apart.
 */
export const nullableNumber = (description: string) => z.union([z.number().describe(description), z.null()]).describe(description);

/** Largest token id accepted (vocabularies stay far below it; the model checks its own size). */
export const MAX_TOKEN_ID = 2 ** 31 - 1;

export const UsageSchema = z.object({ prompt_tokens: z.number(), total_tokens: z.number() });

/**
 * Serves a deterministic call from the response cache, or computes and stores it. `cacheable`
 * false (unseeded sampling, media by reference, or the caller opting out) bypasses it.
 */
export async function cached(
  deps: { cache: ResponseCache; registry: Registry },
  task: string,
  args: Record<string, unknown> & { model: string },
  cacheable: boolean,
  compute: () => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  if (!cacheable || !deps.cache.enabled) return compute();
  const revision = deps.registry.get(args.model)?.skill.model.revision ?? 'main';
  const key = deps.cache.key(task, args.model, revision, args);
  const hit = deps.cache.get(key);
  if (hit) return hit;
  const value = await compute();
  if (value.finish_reason !== 'cancelled') deps.cache.set(key, value);
  return value;
}

/**
 * Runs `fn` under the call's deadline: the configured `--deadline`, shortened by the caller's
 * `timeoutMs`. The signal passed to `fn` fires on cancellation or at the deadline; a deadline
 * becomes the retryable `timeout` error. Queued work is dropped and a generation stops between
 * tokens, freeing its slot.
 */
export async function withDeadline<T>(
  config: { deadlineMs: number },
  call: { signal: AbortSignal; timeoutMs?: number | undefined },
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const asked = call.timeoutMs;
  const ms = asked !== undefined && Number.isFinite(asked) && asked > 0 ? Math.min(asked, config.deadlineMs) : config.deadlineMs;
  const ac = new AbortController();
  const onAbort = () => ac.abort(call.signal.reason);
  if (call.signal.aborted) onAbort();
  else call.signal.addEventListener('abort', onAbort, { once: true });
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
    call.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A ranking result (similarity, rerank): rows best first (ties in input order), the best `topK`
 * of them, and the tokens read as usage.
 */
export function rankedResult<R extends { index: number; score: number }>(
  model: string,
  rows: R[],
  topK: number | undefined,
  tokens: number[],
): { model: string; results: R[]; usage: { prompt_tokens: number; total_tokens: number } } {
  rows.sort((a, b) => b.score - a.score || a.index - b.index);
  const read = tokens.reduce((a, b) => a + b, 0);
  return { model, results: rows.slice(0, topK ?? rows.length), usage: { prompt_tokens: read, total_tokens: read } };
}
