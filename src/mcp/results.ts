/**
 * @module mcp/results
 * The MCP edge of the error catalog: successes become `structuredContent` plus a JSON text
 * block; every failure becomes an `isError` result carrying its stable code, whether it is
 * retryable, and a retry hint. Arguments are validated by the task layer, so a malformed call
 * gets the same shape (`invalid_input`); an unknown tool is a protocol error (mcp/params-check.ts).
 *
 * Successes are made by a {@link ToolResults} (one per app, in the server deps), which remembers
 * the JSON text it made for each structured result, so the stdio transport can write that text
 * once more as `structuredContent` instead of formatting every number a second time.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { ERROR_CATALOG, toServerError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

/** The first value of `o` that is an object (the key a result's JSON is filed under). */
function anchorOf(o: Record<string, unknown>): object | undefined {
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'object' && v !== null) return v;
  }
  return undefined;
}

/** Makes successful tool results and remembers their JSON text (entries go away with the results). */
export class ToolResults {
  private readonly texts = new WeakMap<object, { structured: Record<string, unknown>; text: string }>();

  /** A successful tool result: `structuredContent` plus the same JSON as text. */
  ok(structured: Record<string, unknown>): CallToolResult {
    const text = JSON.stringify(structured);
    const anchor = anchorOf(structured);
    if (anchor) this.texts.set(anchor, { structured, text });
    return { content: [{ type: 'text', text }], structuredContent: structured };
  }

  /**
   * The JSON text ok() made for `structured`, or undefined. The SDK may hand tool results on as
   * shallow copies with the same values, so a copy matches when it has the same keys in the same
   * order and every value is the very same (===) value; anything else is not vouched for.
   */
  jsonOf(structured: Record<string, unknown>): string | undefined {
    const anchor = anchorOf(structured);
    const hit = anchor && this.texts.get(anchor);
    if (!hit) return undefined;
    const a = Object.keys(structured);
    const b = Object.keys(hit.structured);
    if (a.length !== b.length) return undefined;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i] || structured[a[i]!] !== hit.structured[b[i]!]) return undefined;
    return hit.text;
  }
}

/** The JSON body of an error result. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retry_after_ms?: number;
}

/** An error tool result with a stable code. */
export function fail(e: unknown): CallToolResult {
  const err = toServerError(e);
  const body: ErrorBody = { code: err.code, message: err.message, retryable: ERROR_CATALOG[err.code].retryable };
  if (err.retryAfterMs !== undefined) body.retry_after_ms = err.retryAfterMs;
  // No structuredContent: clients validate it against the tool's output schema, even on errors.
  return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: body }) }] };
}

/** Wraps a tool handler so any throw becomes an error result (logged as an error for model and server faults). */
export function guarded<A, X>(
  logger: Logger,
  tool: string,
  fn: (args: A, extra: X) => Promise<CallToolResult>,
): (args: A, extra: X) => Promise<CallToolResult> {
  return async (args, extra) => {
    try {
      return await fn(args, extra);
    } catch (e) {
      const err = toServerError(e);
      // Model and server faults are errors; anything a caller caused is debug detail (metrics count
      // it), so a client sending junk in a loop cannot fill the log.
      const level = err.code === 'internal' || err.code === 'inference_failed' || err.code === 'model_load_failed' ? 'error' : 'debug';
      logger[level]({ tool, code: err.code, err: err.message }, 'tool call failed');
      return fail(err);
    }
  };
}
