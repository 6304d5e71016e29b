/**
 * @module mcp/results
 * The MCP edge of the error catalog: successes become `structuredContent` plus a JSON text
 * block; every failure becomes an `isError` result carrying its stable code, whether it is
 * retryable, and a retry hint. SDK-generated failures (argument validation, unknown tool) are
 * mapped to the same shape.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_CATALOG, ServerError, toServerError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

/** A successful tool result. */
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

/** Maps an SDK-produced error message (validation, unknown tool) to a catalogued error. */
export function fromSdkMessage(message: string): ServerError {
  if (/Input validation error|Invalid arguments/i.test(message)) {
    return new ServerError('invalid_input', message.replace(/^MCP error -?\d+: /, ''));
  }
  if (/Tool .* (not found|disabled)/i.test(message)) return new ServerError('unknown_tool', message.replace(/^MCP error -?\d+: /, ''));
  return new ServerError('internal', message);
}

/** Wraps a tool handler so any throw becomes an error result (logged unless it is bad input). */
export function guarded<A, X>(logger: Logger, tool: string, fn: (args: A, extra: X) => Promise<CallToolResult>): (args: A, extra: X) => Promise<CallToolResult> {
  return async (args, extra) => {
    try {
      return await fn(args, extra);
    } catch (e) {
      const err = toServerError(e);
      const level = err.code === 'internal' || err.code === 'inference_failed' || err.code === 'model_load_failed' ? 'error' : 'info';
      logger[level]({ tool, code: err.code, err: err.message }, 'tool call failed');
      return fail(err);
    }
  };
}
