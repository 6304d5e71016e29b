/**
 * @module transports/http/checks
 * The HTTP edge's checks, each a small function that returns a refusal or nothing: Host
 * (DNS-rebinding protection), Origin (exact same-origin or --cors-origins), the body limit, and
 * the two rate limits (JSON-RPC messages per client, failed authentications per address).
 * Refusals carry a catalogued code; the server turns them into HTTP answers.
 */
import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Config } from '../../config/config.js';
import { ERROR_CATALOG, ServerError, type ErrorCode } from '../../errors.js';

/**
 * A refusal at the edge: the one error type (a ServerError with its catalogued code) plus what
 * HTTP adds: a status when it differs from the catalogue's, the JSON-RPC error code, headers.
 */
export class HttpError extends ServerError {
  readonly status: number;
  readonly rpcCode: number;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    o: { status?: number; rpcCode?: number; headers?: Record<string, string>; retryAfterMs?: number } = {},
  ) {
    super(code, message, o.retryAfterMs === undefined ? {} : { retryAfterMs: o.retryAfterMs });
    this.status = o.status ?? ERROR_CATALOG[code].http;
    this.rpcCode = o.rpcCode ?? -32000;
    this.headers = {
      ...(o.retryAfterMs !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(o.retryAfterMs / 1000))) } : {}),
      ...o.headers,
    };
  }

  /** The JSON-RPC error body: the catalog's code, retryability and hint travel in `data`. */
  body(): unknown {
    const data = {
      code: this.code,
      retryable: this.retryable,
      ...(this.retryAfterMs !== undefined ? { retry_after_ms: this.retryAfterMs } : {}),
    };
    return { jsonrpc: '2.0', error: { code: this.rpcCode, message: this.message, data }, id: null };
  }
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** Whether a Host header names this server: a loopback name, the bind address, or --allowed-hosts. */
export function hostAllowed(host: string | undefined, port: number, config: Pick<Config, 'host' | 'allowedHosts'>): boolean {
  if (!host) return false;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const allowed = [...LOOPBACK_NAMES, ...config.allowedHosts.map((h) => h.toLowerCase())];
  if (!['0.0.0.0', '::'].includes(config.host)) allowed.push(config.host.toLowerCase());
  return allowed.includes(name) || allowed.includes(host.toLowerCase()) || allowed.includes(`${name}:${port}`);
}

/** Refuses a request whose Host is not this server's. */
export function checkHost(req: IncomingMessage, port: number, config: Pick<Config, 'host' | 'allowedHosts'>): HttpError | undefined {
  if (hostAllowed(req.headers.host, port, config)) return undefined;
  return new HttpError(
    'forbidden',
    `Host "${String(req.headers.host).slice(0, 100)}" is not allowed (DNS-rebinding protection); add it with --allowed-hosts`,
  );
}

/** scheme://host:port with the scheme's default port made explicit, or undefined if unparsable. */
function originKey(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return `${u.protocol}//${u.hostname.toLowerCase()}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return undefined;
  }
}

/**
 * An Origin is accepted when it is exactly this server's own origin (scheme, host and port of
 * the request's Host) or listed in --cors-origins (`*` for any). A page on another port of the
 * same host is another origin: it could otherwise drive a no-auth loopback server.
 */
export function checkOrigin(
  origin: string | undefined,
  req: IncomingMessage,
  config: Pick<Config, 'corsOrigins'>,
  tls = false,
): HttpError | undefined {
  if (!origin) return undefined;
  const own = originKey(`${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`);
  const key = originKey(origin);
  if (key !== undefined && key === own) return undefined;
  if (config.corsOrigins.includes('*') || config.corsOrigins.some((o) => originKey(o) === key && key !== undefined)) return undefined;
  return new HttpError('forbidden', `Origin "${origin.slice(0, 100)}" is not allowed; add it with --cors-origins`);
}

/** Reads a JSON body under `limit` bytes (declared and actual). */
export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new HttpError('body_too_large', `request body larger than ${limit} bytes (--max-body-size)`, { rpcCode: -32600 });
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError('invalid_input', 'request body is not valid JSON', { rpcCode: -32700 });
  }
}

/** JSON-RPC messages in a body: a batch counts each element. */
export function messagesIn(body: unknown): unknown[] {
  return Array.isArray(body) ? body : body === undefined ? [] : [body];
}

/**
 * Per-client limit on JSON-RPC messages per minute (--rate-limit). A batch of N messages costs
 * N, so batching does not multiply a client's allowance.
 */
export class MessageRateLimit {
  private readonly limiter: RateLimiterMemory | undefined;

  constructor(private readonly perMinute: number) {
    this.limiter = perMinute > 0 ? new RateLimiterMemory({ points: perMinute, duration: 60 }) : undefined;
  }

  /** A refusal when `messages` more would pass the limit; otherwise counts them (unless `consume` is false). */
  async check(client: string, messages: number, consume = true): Promise<HttpError | undefined> {
    if (!this.limiter || messages <= 0) return undefined;
    // A request that does not fit is refused whole and costs nothing, so an oversized batch
    // does not lock the client out for the rest of the window.
    const r = await this.limiter.get(client);
    const used = r && r.msBeforeNext > 0 ? r.consumedPoints : 0; // an expired window counts nothing
    if (used + messages > this.perMinute) {
      return new HttpError(
        'rate_limited',
        `rate limit of ${this.perMinute} messages per minute exceeded (this request carries ${messages})`,
        {
          retryAfterMs: r?.msBeforeNext ?? 60_000,
        },
      );
    }
    if (consume) await this.limiter.consume(client, messages).catch(() => undefined);
    return undefined;
  }
}

/**
 * Failed authentications per client address per minute. Past the limit, the address is refused
 * before its credentials are even checked, so keys cannot be guessed at speed.
 */
export class AuthFailureLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(readonly perMinute: number) {
    this.limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  }

  /** A refusal while the address is over its limit. */
  async blocked(address: string): Promise<HttpError | undefined> {
    const r = await this.limiter.get(address);
    if (!r || r.msBeforeNext <= 0 || r.consumedPoints < this.perMinute) return undefined;
    return new HttpError(
      'rate_limited',
      `too many failed authentications from this address; retry in ${Math.ceil(r.msBeforeNext / 1000)} s`,
      { retryAfterMs: r.msBeforeNext },
    );
  }

  /** Counts a failure. */
  async failed(address: string): Promise<void> {
    await this.limiter.penalty(address, 1);
  }
}
