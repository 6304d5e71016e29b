/**
 * @module rest/route
 * What a REST route is and gets. A route is a method, a path pattern, the error shape its
 * clients expect, and a handler. The HTTP transport runs the edge checks (Host, Origin, auth,
 * rate limit), then hands the handler a {@link RestCall}: the request, the credentials, a
 * signal that fires when the client goes away or the server gives up, and a bounded body reader.
 * Errors are `ServerError`s from the one catalog; {@link errorReply} shapes them per style.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ERROR_CATALOG, toServerError, type ErrorCode } from '../errors.js';
import type { TaskDeps } from '../tasks/deps.js';
import type { TaskSet } from '../tasks/index.js';

/** What the REST layer needs: the task layer and its task set. */
export interface RestDeps extends TaskDeps {
  tasks: TaskSet;
}

/**
 * The error body a route's clients expect: `openai` (`{error: {message, type, param, code}}`,
 * which the openai SDK reads), `tei` (text-embeddings-inference's `{error, error_type}`).
 */
export type ErrorStyle = 'openai' | 'tei';

/** One request, as a route handler sees it. */
export interface RestCall {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters (`{model}` in the pattern). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The caller's credentials; undefined when the server runs without auth. */
  auth: { scopes: string[]; clientId?: string | undefined } | undefined;
  /** Who calls: the credentials' subject, else the address or local process (fair queuing, audit). */
  client: string;
  /** Fires when the client disconnects or the server gives up on the request. */
  signal: AbortSignal;
  /** The JSON body, read under --max-body-size. */
  json(): Promise<unknown>;
}

/** Documentation of a route for the OpenAPI description. */
export interface RouteDoc {
  summary: string;
  tag: string;
  /** Request body schema (JSON). */
  body?: z.ZodType | undefined;
  /** Request body as multipart/form-data: its fields. */
  multipart?: z.ZodType | undefined;
  /** 200 response schema (JSON). */
  response?: z.ZodType | undefined;
  /** Other 200 content types (e.g. text/event-stream, text/plain). */
  alsoProduces?: string[] | undefined;
  /** Left out of the description (static files). */
  hidden?: boolean | undefined;
}

export interface RestRoute {
  method: 'GET' | 'POST';
  /** Path with `{name}` parameters, e.g. `/v1/models/{model}`. */
  path: string;
  style: ErrorStyle;
  doc: RouteDoc;
  handle(call: RestCall): Promise<void>;
}

/** Writes a JSON answer (nothing when the answer has already started). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Writes a text answer. */
export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** OpenAI's error `type` for an HTTP status (what its SDKs and clients branch on). */
function openaiType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** TEI's `error_type` for a catalog code. */
function teiType(code: ErrorCode, status: number): string {
  if (code === 'overloaded' || code === 'rate_limited') return 'overloaded';
  if (code === 'input_too_large' || code === 'invalid_input' || status === 422) return 'validation';
  if (code === 'unauthorized' || code === 'forbidden') return 'unauthorized';
  if (code === 'model_unavailable' || code === 'shutting_down') return 'unhealthy';
  return status < 500 ? 'validation' : 'backend';
}

/** A catalogued error as `style`'s body, its HTTP status, and a Retry-After for retryable ones. */
export function errorReply(
  style: ErrorStyle,
  e: unknown,
  statusOverride?: number,
): { status: number; body: unknown; headers: Record<string, string> } {
  const err = toServerError(e);
  const status = statusOverride ?? ERROR_CATALOG[err.code].http;
  const headers: Record<string, string> = {};
  if (err.retryable) headers['retry-after'] = String(Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000)));
  if (style === 'tei') return { status, headers, body: { error: err.message, error_type: teiType(err.code, status), code: err.code } };
  const field = err.details?.field;
  return {
    status,
    headers,
    body: {
      error: {
        message: err.message,
        type: openaiType(status),
        param: typeof field === 'string' ? field : null,
        code: err.code,
        retryable: err.retryable,
        ...(err.retryAfterMs !== undefined ? { retry_after_ms: err.retryAfterMs } : {}),
      },
    },
  };
}
