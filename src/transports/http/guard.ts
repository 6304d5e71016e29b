/**
 * @module transports/http/guard
 * The edge checks every request passes, in order, as fastify hooks: Host (DNS-rebinding
 * protection), Origin and CORS (and preflights), then for the routes that do work: the
 * failed-auth throttle, authentication, the shutdown gate and the per-client rate limit. Each
 * refusal is an HttpError with a catalogued code; the server's error handler shapes it for the
 * route's clients. Who a request is (credentials, and the client name limits and fair queuing use)
 * is decided here once and read by the routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import { AuthError, Authenticator } from './auth.js';
import { AuthFailureLimit, HttpError, MessageRateLimit, checkHost, checkOrigin } from './checks.js';
import { ClientAddress } from './client-address.js';
import { RETRY_HINT_MS } from './event-streams.js';

/** Least time between two audit lines about the same client's rate-limit refusals. */
const AUDIT_INTERVAL_MS = 10_000;

const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers':
    'content-type, authorization, x-api-key, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id, x-request-timeout-ms, cache-control',
  'access-control-max-age': '600',
};

/** Who sent a request, once authenticated. */
export interface Caller {
  /** Undefined when the server runs without credentials. */
  auth: AuthInfo | undefined;
  /** The name limits and fair queuing use: the credentials' subject, else `ip:<address>`. */
  client: string;
}

export class EdgeGuard {
  readonly auth: Authenticator;
  private readonly rate: MessageRateLimit;
  private readonly authFailures: AuthFailureLimit;
  readonly addresses: ClientAddress;
  private readonly audit: Logger;
  private readonly callers = new WeakMap<IncomingMessage, Caller>();
  // Rate-limit refusals are audited once per client per interval with a count of the rest: a
  // flood must not turn into a flood of log lines.
  private readonly limitLog = new Map<string, { at: number; suppressed: number }>();
  /** Set at shutdown: requests that would start work are refused with `shutting_down`. */
  closing = false;

  constructor(
    private readonly config: Config,
    logger: Logger,
    private readonly tls: boolean,
  ) {
    this.auth = new Authenticator(config);
    this.rate = new MessageRateLimit(config.rateLimit);
    this.authFailures = new AuthFailureLimit(config.authFailureLimit);
    this.addresses = new ClientAddress(config.trustedProxies);
    this.audit = logger.child({ audit: true });
  }

  /**
   * Host and Origin, for every request (routes or not); sets the CORS headers for an allowed
   * origin and answers a preflight. Returns true when the request has been answered.
   */
  screen(req: IncomingMessage, res: ServerResponse): boolean {
    // The port this connection came in on: the edge's own, or the one of a server it is mounted in.
    const port = req.socket.localPort ?? this.config.port;
    const badHost = checkHost(req, port, this.config);
    if (badHost) {
      this.audit.warn(
        { event: 'host_rejected', host: req.headers.host, ip: req.socket.remoteAddress },
        'request rejected: Host not allowed',
      );
      throw badHost;
    }
    const origin = req.headers.origin;
    const badOrigin = checkOrigin(origin, req, this.config, this.tls);
    if (badOrigin) {
      this.audit.warn({ event: 'origin_rejected', origin, ip: req.socket.remoteAddress }, 'request rejected: Origin not allowed');
      throw badOrigin;
    }
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'mcp-session-id');
    }
    if (req.method !== 'OPTIONS') return false;
    res.writeHead(204, PREFLIGHT_HEADERS);
    res.end();
    return true;
  }

  /** Admits a request to a route that does work: authenticates it and refuses it while shutting down. */
  async admit(req: IncomingMessage, path: string): Promise<Caller> {
    const auth = await this.authenticate(req, path);
    if (this.closing) throw new HttpError('shutting_down', 'server is shutting down', { retryAfterMs: RETRY_HINT_MS });
    const caller = { auth, client: auth?.clientId ?? `ip:${this.addresses.of(req)}` };
    this.callers.set(req, caller);
    return caller;
  }

  /** The caller `admit` recorded for `req`. */
  callerOf(req: IncomingMessage): Caller {
    const c = this.callers.get(req);
    if (!c) throw new Error('request reached a route without passing the edge');
    return c;
  }

  /** Refuses (and audits) a client that `messages` more would take past --rate-limit; counts them when `consume`. */
  async limit(client: string, messages: number, consume = true): Promise<void> {
    const limited = await this.rate.check(client, messages, consume);
    if (!limited) return;
    this.auditLimited(client, messages);
    throw limited;
  }

  /**
   * Authenticates. Credentials are checked first, so a valid key or token is never refused for
   * what other requests from the same address did; only failures count, and an address past
   * --auth-failure-limit failures a minute has its further failures refused with 429.
   */
  async authenticate(req: IncomingMessage, path: string): Promise<AuthInfo | undefined> {
    if (!this.auth.enabled) return undefined;
    try {
      return await this.auth.authenticate(req);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      const ip = this.addresses.of(req);
      const address = `ip:${ip}`;
      const blocked = await this.authFailures.blocked(address);
      if (blocked) {
        this.audit.warn({ event: 'auth_throttled', path, ip }, 'authentication throttled');
        throw blocked;
      }
      await this.authFailures.failed(address);
      this.audit.warn({ event: 'auth_failed', path, ip, reason: e.message }, 'authentication failed');
      throw new HttpError('unauthorized', `${e.message} (send Authorization: Bearer <key or token> or X-API-Key)`, {
        rpcCode: -32001,
        headers: { 'www-authenticate': 'Bearer realm="hf-model-server"' },
      });
    }
  }

  /** Drops audit bookkeeping older than the interval. */
  sweep(): void {
    for (const [client, e] of this.limitLog) if (Date.now() - e.at > AUDIT_INTERVAL_MS) this.limitLog.delete(client);
  }

  private auditLimited(client: string, messages: number): void {
    const now = Date.now();
    const last = this.limitLog.get(client);
    if (last && now - last.at < AUDIT_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.audit.warn({ event: 'rate_limited', client, messages, refusedSinceLastLine: last?.suppressed ?? 0 }, 'rate limit hit');
    this.limitLog.set(client, { at: now, suppressed: 0 });
  }
}
