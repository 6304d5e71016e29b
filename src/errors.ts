/**
 * @module errors
 * The one error catalog. Every failure a client can see has a stable `code` from this table,
 * whether it is retryable, and what to do about it. Errors are mapped to MCP results or HTTP
 * statuses only at the edge (see mcp/results.ts); everything below throws `ServerError`.
 */

/** One catalog entry. */
export interface ErrorSpec {
  /** Whether the same call may succeed if retried later. */
  retryable: boolean;
  /** HTTP status used by the HTTP edge. */
  http: number;
  /** What it means. */
  meaning: string;
  /** What the caller should do. */
  action: string;
}

/** Every error code the server emits. The docs/reference.md table is checked against this by a test. */
export const ERROR_CATALOG = {
  invalid_input: {
    retryable: false,
    http: 400,
    meaning: 'Arguments failed validation: wrong types, empty input, or values out of range.',
    action: 'Fix the arguments; the message names the field.',
  },
  input_too_large: {
    retryable: false,
    http: 400,
    meaning:
      "Too many items (--max-client-batch-size), an item too long for the documented limits, or a prompt longer than the model's context.",
    action: 'Split the request or shorten the inputs.',
  },
  body_too_large: {
    retryable: false,
    http: 413,
    meaning: 'The HTTP request body (or a form upload) is larger than --max-body-size.',
    action: 'Send less per request: split it, or pass large media as a file path or URL.',
  },
  unknown_tool: {
    retryable: false,
    http: 404,
    meaning: 'No tool with that name is exposed (it may be disabled with --tools).',
    action: 'Call tools/list and use one of the listed tools.',
  },
  unknown_model: {
    retryable: false,
    http: 404,
    meaning: 'No skill with that name is registered.',
    action: 'Pick a model listed in the tool schema or the hf://models resource.',
  },
  unsupported_task: {
    retryable: false,
    http: 400,
    meaning: "The model exists but does not serve this tool's task.",
    action: 'Use a model whose skill lists the task.',
  },
  model_not_found: {
    retryable: false,
    http: 404,
    meaning: 'The model files are not present locally and downloading is off (offline mode).',
    action: 'Place the model under --models-dir as org/name/, or run once online to cache it.',
  },
  hub_unreachable: {
    retryable: true,
    http: 503,
    meaning:
      'The model is not on disk and the model hub could not be reached to download it (DNS, connection or network failure). The model itself may be fine.',
    action:
      'Retry when online; or place the model under --models-dir as org/name/ and run with --offline; or set --hub-endpoint (HF_ENDPOINT) to a reachable mirror.',
  },
  model_load_failed: {
    retryable: false,
    http: 500,
    meaning: 'The model files exist but could not be loaded (corrupt or incompatible ONNX, bad config).',
    action: "Replace the model files; the message carries the loader's reason.",
  },
  insufficient_memory: {
    retryable: false,
    http: 507,
    meaning: 'The model is larger than the whole memory budget (--memory-budget).',
    action: 'Raise --memory-budget, or use a smaller model or a quantized dtype.',
  },
  inference_failed: {
    retryable: false,
    http: 500,
    meaning: 'The model ran but failed on this input.',
    action: 'Check the input; report the message if it persists.',
  },
  invalid_media: {
    retryable: false,
    http: 400,
    meaning: 'The image or audio bytes could not be decoded (corrupt, truncated, empty, or not what the source claims).',
    action: 'Send a valid file; base64 must decode to the file bytes.',
  },
  unsupported_media: {
    retryable: false,
    http: 415,
    meaning: 'The media format is not accepted (images: JPEG, PNG, WebP, GIF, TIFF, AVIF; audio: WAV, MP3, OGG Vorbis, FLAC).',
    action: 'Convert the file to one of the listed formats.',
  },
  media_too_large: {
    retryable: false,
    http: 413,
    meaning:
      'The media exceeds a documented limit: bytes (--max-media-size), image pixels (--max-image-pixels), aspect ratio (100:1) or audio length (--max-audio-duration).',
    action: 'Downscale, trim or split the input, or raise the limit.',
  },
  silent_audio: {
    retryable: false,
    http: 422,
    meaning: 'The audio holds no signal (digital silence), so there is nothing to transcribe or segment.',
    action: 'Check the recording and the channel; send audio that contains sound.',
  },
  path_not_allowed: {
    retryable: false,
    http: 403,
    meaning:
      'A local media path is not a readable regular file inside the allowed folders (--allow-dir), after resolving .. and symlinks. Outside them, missing and present files get one answer; FIFOs, sockets and devices are refused.',
    action: 'Use a file under an allowed folder, or start the server with --allow-dir for its folder.',
  },
  file_not_found: {
    retryable: false,
    http: 404,
    meaning:
      'A local media path inside the allowed folders names no file. (Outside them, every case is path_not_allowed, so nothing there can be probed.)',
    action: 'Check the path.',
  },
  url_not_allowed: {
    retryable: false,
    http: 403,
    meaning:
      'Media URLs are disabled (--allow-urls), or the URL is not http(s), or it resolves to a loopback, private or link-local address.',
    action: 'Send the bytes as base64 instead, or enable --allow-urls for public addresses.',
  },
  fetch_failed: {
    retryable: true,
    http: 502,
    meaning: 'Downloading a media URL failed: network error, HTTP error status, too many redirects or timeout.',
    action: 'Check the URL and retry, or send the bytes as base64.',
  },
  unauthorized: {
    retryable: false,
    http: 401,
    meaning:
      'HTTP credentials are missing or wrong: no API key or bearer token, an unknown key, or a token that fails verification (signature, algorithm, expiry, issuer, audience).',
    action: 'Send Authorization: Bearer <key or token> (or X-API-Key) with valid credentials.',
  },
  not_found: {
    retryable: false,
    http: 404,
    meaning: 'No such HTTP route, or the MCP session is unknown (expired, evicted or closed).',
    action: 'Check the path; for a lost session, initialize a new one.',
  },
  shutting_down: {
    retryable: true,
    http: 503,
    meaning: 'The server is shutting down and gave up on the request (it did not finish within the shutdown grace).',
    action: 'Retry, on another replica if there is one.',
  },
  forbidden: {
    retryable: false,
    http: 403,
    meaning:
      'The credentials lack the scope this call needs (models:admin for load/unload/benchmark, models:infer for inference, models:read for resources and logging/setLevel, metrics:read for /metrics), or a Host or Origin header was refused.',
    action: 'Use a key or token with the needed scope.',
  },
  rate_limited: {
    retryable: true,
    http: 429,
    meaning:
      'Too many JSON-RPC messages for this key or client, too many sessions or failed authentications from it, or too many requests for this model in the current window.',
    action: 'Retry after the hinted delay.',
  },
  model_unavailable: {
    retryable: true,
    http: 503,
    meaning: 'The model failed repeatedly and its circuit breaker is open; calls fail fast until a probe succeeds.',
    action: 'Retry after the hinted delay, or use another model; check hf://models for the failure.',
  },
  overloaded: {
    retryable: true,
    http: 429,
    meaning:
      'The request queue is full, or the HTTP server is already receiving as many request bodies as its budget allows (--body-budget; answered with HTTP 503 before the body is read).',
    action: 'Retry after the hinted delay.',
  },
  timeout: {
    retryable: true,
    http: 504,
    meaning: 'The request passed its deadline, or its HTTP body did not arrive within --body-timeout (HTTP 408; the connection is closed).',
    action: 'Retry, or ask for less work (fewer tokens, fewer items).',
  },
  cancelled: {
    retryable: false,
    http: 499,
    meaning: 'The client cancelled the request.',
    action: 'None.',
  },
  internal: {
    retryable: false,
    http: 500,
    meaning: 'An unexpected server error.',
    action: 'Report it with the server log.',
  },
} as const satisfies Record<string, ErrorSpec>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The error every layer throws for client-visible failures. */
export class ServerError extends Error {
  override name = 'ServerError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Suggested wait before retrying, for retryable errors. */
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { retryAfterMs?: number; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = ERROR_CATALOG[code].retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.details = opts.details;
  }
}

/** Longest piece of caller input repeated in an error message or log line. */
export const ECHO_CHARS = 120;

/**
 * Caller input quoted for an error message, cut to {@link ECHO_CHARS} characters with the full
 * length noted: a base64 payload sent in a path field must not come back (or into the logs) whole.
 */
export function echo(input: string, max = ECHO_CHARS): string {
  const q = JSON.stringify(input.length > max ? input.slice(0, max) : input);
  return input.length > max ? `${q.slice(0, -1)}..." (${input.length} characters)` : q;
}

/** A ServerError as plain data, to cross a thread boundary (structured clone drops the class). */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

/** The plain-data form of anything thrown. */
export function toErrorData(e: unknown): ErrorData {
  const err = toServerError(e);
  return {
    code: err.code,
    message: err.message,
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    ...(err.details ? { details: err.details } : {}),
  };
}

/** The ServerError again, with its retry hint and details. */
export function fromErrorData(d: ErrorData): ServerError {
  return new ServerError(d.code, d.message, {
    ...(d.retryAfterMs !== undefined ? { retryAfterMs: d.retryAfterMs } : {}),
    ...(d.details ? { details: d.details } : {}),
  });
}

/** Wraps anything thrown into a ServerError (unknown errors become `internal`). */
export function toServerError(e: unknown): ServerError {
  if (e instanceof ServerError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new ServerError('internal', msg, { cause: e });
}
