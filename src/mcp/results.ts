/**
 * @module mcp/results
 * The MCP edge of the error catalog: successes become `structuredContent` plus a JSON text
 * block; every failure becomes an `isError` result carrying its stable code, whether it is
 * retryable, and a retry hint. Arguments are validated by the task layer, so a malformed call
 * gets the same shape (`invalid_input`); an unknown tool is a protocol error (mcp/tools/register.ts).
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { ERROR_CATALOG, toServerError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

/** A successful tool result: `structuredContent` plus the same JSON as text. */
export function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
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
