/**
 * @module mcp/params-check
 * Checks a request's params against its method's schema before the SDK sees it, so a client gets
 * JSON-RPC's -32602 Invalid params with one short line naming the field, whichever protocol era
 * it speaks, instead of a multi-line schema dump. (A call to a tool that does not exist is answered
 * by the tools/call handler, mcp/tools/register.ts, on every transport.) An SDK option to word its
 * own schema failures would replace this.
 */
import { ClientRequestSchema } from '@modelcontextprotocol/core';
import type { z } from 'zod';

/** JSON-RPC's code for params that do not fit the method. */
export const INVALID_PARAMS = -32602;

type Schema = { safeParse(v: unknown): { success: true } | { success: false; error: z.ZodError } };

/** Each client request method's schema, from the SDK's own union. */
const BY_METHOD: ReadonlyMap<string, Schema> = new Map(
  (ClientRequestSchema as unknown as { options: Array<Schema & { shape: { method: { value: string } } }> }).options.map((o) => [
    o.shape.method.value,
    o,
  ]),
);

const isObject = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);

/**
 * Whether a tools/call is well-formed by its common shape (an object `params` with a string
 * `name` and object `arguments` and `_meta` when present): the hot path, where a full schema
 * parse here would only repeat the SDK's own; anything else gets the full schema.
 */
function plainToolCall(m: { params?: unknown }): boolean {
  const p = m.params as { name?: unknown; arguments?: unknown; _meta?: unknown } | undefined;
  return (
    isObject(p) &&
    typeof p!.name === 'string' &&
    (p!.arguments === undefined || isObject(p!.arguments)) &&
    (p!._meta === undefined || isObject(p!._meta))
  );
}

/**
 * The one-line reason a request's params do not fit its method, or undefined when they do (or the
 * method is not a known request).
 */
export function invalidParams(message: unknown): string | undefined {
  const m = message as { id?: unknown; method?: unknown; params?: unknown } | null;
  if (!m || typeof m !== 'object' || m.id === undefined || typeof m.method !== 'string') return undefined;
  const schema = BY_METHOD.get(m.method);
  if (!schema) return undefined;
  const plain = m.method === 'tools/call' && plainToolCall(m);
  const r = plain ? ({ success: true } as const) : schema.safeParse(message);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || 'params';
  const why = issue.message.replace(/^Invalid input: /, '').replace(/\brecord\b/g, 'object');
  return `Invalid params for ${m.method}: ${field}: ${why}`.slice(0, 300);
}
