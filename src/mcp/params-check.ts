/**
 * @module mcp/params-check
 * Checks a request's params against its method's schema before the SDK sees it. The SDK (1.32)
 * answers params that fail its schema (`tools/call` with `arguments: "x"`) with -32603 Internal
 * error and a multi-line zod dump; JSON-RPC says -32602 Invalid params, and a client should get
 * one short line naming the field. An SDK option to map its own schema failures would replace this.
 */
import { ClientRequestSchema } from '@modelcontextprotocol/sdk/types.js';
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

/** The one-line reason a request's params do not fit its method, or undefined when they do (or the method is not a known request). */
export function invalidParams(message: unknown): string | undefined {
  const m = message as { id?: unknown; method?: unknown } | null;
  if (!m || typeof m !== 'object' || m.id === undefined || typeof m.method !== 'string') return undefined;
  const schema = BY_METHOD.get(m.method);
  if (!schema) return undefined;
  const r = schema.safeParse(message);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || 'params';
  const why = issue.message.replace(/^Invalid input: /, '').replace(/\brecord\b/g, 'object');
  return `Invalid params for ${m.method}: ${field}: ${why}`.slice(0, 300);
}
