/**
 * @module transports/http/server
 * MCP over streamable HTTP at `/mcp`: 2026-07-28 requests (stateless by the revision) through the
 * SDK's per-request handler (modern.ts), 2025-era clients on sessions (stateful by default,
 * `--stateless` for replicas behind a load balancer) beside it; the REST routes of rest/ (OpenAI, TEI, task routes, `/openapi.json`,
 * `/docs`), plus `/health` (liveness), `/ready` (readiness) and `/metrics` (Prometheus). Every request passes the edge checks of checks.ts in order: Host, Origin/CORS,
 * failed-auth throttle, authentication, body limit, per-message rate limit, method scopes; then
 * the route table hands it on. All sessions share the process's one registry, loader and executor.
 *
 * No request is dropped without an answer: a POST still running at the request timeout, or at
 * the end of the shutdown grace, gets an error result (`timeout` or `shutting_down`) for each of
 * its pending requests, and its work is cancelled; event streams get a `retry` hint before they
 * close, so clients reconnect (to another replica) instead of waiting.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, type AuthInfo, type JSONRPCMessage, type TransportSendOptions } from '@modelcontextprotocol/server';
import type { App } from '../../app.js';
import { ServerError, toServerError } from '../../errors.js';
import { fail } from '../../mcp/results.js';
import { METRICS_SCOPE, READ_SCOPE, hasScope } from '../../tasks/scopes.js';
import { createServer, type CreatedServer } from '../../mcp/server.js';
import { INVALID_PARAMS, invalidParams } from '../../mcp/params-check.js';
import { CLIENT_HEADER } from '../../mcp/tools/register.js';
import { AuthError, Authenticator, bindSafetyError } from './auth.js';
import { BodyBudget } from './body-budget.js';
import { AuthFailureLimit, HttpError, MessageRateLimit, checkHost, checkOrigin, messagesIn, readBody } from './checks.js';
import { ClientAddress } from './client-address.js';
import { LocalPeers } from './local-peer.js';
import { modernLeg } from './modern.js';
import { SessionStore, type SessionEntry } from './sessions.js';
import { RestRoutes, errorReply, sendJson, type ErrorStyle, type RouteMatch } from '../../rest/index.js';

/**
 * The HTTP edge, built but not yet listening: `handle` serves one request (mount it in an
 * existing Node server, or call `listen` to serve on the configured host and port).
 */
export interface HttpEdge {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Listens on the configured host and port (TLS when configured). */
  listen(): Promise<HttpServer>;
  /** Requests being handled now. */
  inFlight(): number;
  /** Stops accepting, waits up to `graceMs` for requests in flight, answers the rest, then closes sessions. */
  close(graceMs?: number): Promise<void>;
}

/** A running HTTP server. */
export interface HttpServer {
  url: string;
  port: number;
  /** Requests being handled now. */
  inFlight(): number;
  /** Re-reads the TLS certificate and key (SIGHUP); connections made afterwards use them. A bad pair keeps the old one. */
  reloadTls(): boolean;
  /** Stops accepting, waits up to `graceMs` for requests in flight, answers the rest, then closes sessions. */
  close(graceMs?: number): Promise<void>;
}

/** Least time between two audit lines about the same client's rate-limit refusals. */
const AUDIT_INTERVAL_MS = 10_000;

/** Reconnect delay suggested to event-stream clients when the server ends a stream. */
const RETRY_HINT_MS = 1000;

/** JSON-RPC methods that need a scope beyond being authenticated (tools and resources check their own). */
const METHOD_SCOPES: Record<string, string> = { 'logging/setLevel': READ_SCOPE };

/**
 * A streamable HTTP transport that knows which of its requests are still unanswered, so the
 * server can answer them itself when it gives up on them.
 */
class TrackedTransport extends NodeStreamableHTTPServerTransport {
  private readonly pending = new Map<string | number, string>();

  /**
   * Notes the requests (id and method) a POST carries. An id already in flight on this session
   * (or twice in one batch) is refused before anything is noted: the SDK keys answers by id, so
   * a duplicate would take the first one's answer and leave the other waiting for nothing.
   */
  note(messages: unknown[]): Array<string | number> {
    const ids: Array<string | number> = [];
    const methods: string[] = [];
    for (const m of messages) {
      const r = m as { id?: unknown; method?: unknown };
      if (r && typeof r === 'object' && (typeof r.id === 'string' || typeof r.id === 'number') && typeof r.method === 'string') {
        if (this.pending.has(r.id) || ids.includes(r.id)) throw new DuplicateId(r.id);
        ids.push(r.id);
        methods.push(r.method);
      }
    }
    ids.forEach((id, i) => this.pending.set(id, methods[i]!));
    return ids;
  }

  override async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const r = message as { id?: string | number; result?: unknown; error?: unknown };
    if (r.id !== undefined && ('result' in r || 'error' in r)) this.pending.delete(r.id);
    return super.send(message, options);
  }

  /** Cancels the work of those of `ids` still pending (the client is gone; no answer can reach it). */
  cancel(ids: Array<string | number>, reason: string): void {
    for (const id of ids) {
      if (!this.pending.delete(id)) continue;
      this.cancelWork(id, reason);
    }
  }

  /** Answers those of `ids` still pending with `err` (tool calls as error results), then cancels their work. */
  async giveUp(ids: Array<string | number>, err: ServerError): Promise<void> {
    for (const id of ids) {
      const method = this.pending.get(id);
      if (method === undefined) continue;
      const data = {
        code: err.code,
        retryable: err.retryable,
        ...(err.retryAfterMs !== undefined ? { retry_after_ms: err.retryAfterMs } : {}),
      };
      const answer: JSONRPCMessage =
        method === 'tools/call'
          ? { jsonrpc: '2.0', id, result: fail(err) }
          : { jsonrpc: '2.0', id, error: { code: -32000, message: err.message, data } };
      await this.send(answer, { relatedRequestId: id }).catch(() => undefined);
      this.cancelWork(id, err.code);
    }
  }

  /**
   * Cancels a request's work through the protocol's own path, as if its client had sent
   * `notifications/cancelled` (public members only; an SDK call to cancel a request's handler
   * would replace it).
   */
  private cancelWork(requestId: string | number, reason: string): void {
    this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } });
  }
}

/** A request whose id is still in flight on its session. */
class DuplicateId extends Error {
  constructor(readonly id: string | number) {
    super(`request id ${JSON.stringify(id).slice(0, 80)} is already in flight on this session; use a new id`);
  }
}

interface Session extends SessionEntry {
  transport: TrackedTransport;
  mcp: CreatedServer;
  /** The credential that created it (key id or token subject; `anonymous` without auth): only it may use the session. */
  owner: string;
}

/** A POST being handled: what to answer if the server gives up on it. */
interface InFlight {
  res: ServerResponse;
  transport?: TrackedTransport;
  ids: Array<string | number>;
  /** A REST request: how to stop its work, and the error shape its client reads. */
  rest?: { abort: (err: ServerError) => void; style: ErrorStyle };
  /** A 2026-07-28 `subscriptions/listen`: a long-lived stream, not work (no timeout, no drain wait). */
  listen?: boolean;
}

/**
 * Which responses are event streams (the SDK sets their headers through writeHead, which
 * getHeader cannot see), and the `retry` hint that tells their clients to reconnect.
 */
class EventStreams {
  private readonly streams = new WeakSet<ServerResponse>();

  /** Notes whether `res` becomes an event stream when its head is written. */
  watch(res: ServerResponse): void {
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a) => a !== null && typeof a === 'object' && !Array.isArray(a)) as Record<string, unknown> | undefined;
      const type = headers && Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
      if (String(type ?? '').includes('text/event-stream')) this.streams.add(res);
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
  }

  /** Writes the reconnect hint on an open event stream (between events). */
  hint(res: ServerResponse): void {
    if (this.streams.has(res) && !res.writableEnded) res.write(`retry: ${RETRY_HINT_MS}\n\n`);
  }

  /** Ends a response; an event stream gets the hint first. */
  end(res: ServerResponse): void {
    if (res.writableEnded || res.destroyed) return;
    this.hint(res);
    res.end();
  }
}

/** Starts the HTTP server on the configured host and port. */
export async function startHttp(app: App): Promise<HttpServer> {
  return createHttpEdge(app).listen();
}

/** Builds the HTTP edge over `app`: every check, MCP at /mcp, REST, operations routes. */
export function createHttpEdge(app: App): HttpEdge {
  const { config, logger, loader, metrics } = app.deps;
  const auth = new Authenticator(config);
  const rate = new MessageRateLimit(config.rateLimit);
  const authFailures = new AuthFailureLimit(config.authFailureLimit);
  const addresses = new ClientAddress(config.trustedProxies);
  const bodies = new BodyBudget(config.bodyBudgetBytes);
  const peers = new LocalPeers();
  /** The client a limit applies to: its key or token subject, else its address. */
  const clientOf = (req: IncomingMessage, clientId: string | undefined) => clientId ?? `ip:${addresses.of(req)}`;
  const sessions = new SessionStore<Session>({
    max: config.maxSessions,
    perClient: config.maxSessionsPerClient,
    idleMs: config.sessionIdleMs,
  });
  const audit = logger.child({ audit: true });
  const posts = new Set<InFlight>();
  const streams = new Set<ServerResponse>();
  const eventStreams = new EventStreams();
  let closing = false;

  // Rate-limit refusals are audited once per client per interval with a count of the rest: a
  // flood must not turn into a flood of log lines.
  const limitLog = new Map<string, { at: number; suppressed: number }>();
  const auditLimited = (client: string, messages: number) => {
    const now = Date.now();
    const last = limitLog.get(client);
    if (last && now - last.at < AUDIT_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    audit.warn({ event: 'rate_limited', client, messages, refusedSinceLastLine: last?.suppressed ?? 0 }, 'rate limit hit');
    limitLog.set(client, { at: now, suppressed: 0 });
  };

  const rest = new RestRoutes(app.deps, auth.enabled);
  const modern = modernLeg(app.deps);

  const ready = (): boolean => config.preload.every((m) => loader.status(m).status === 'loaded');

  /**
   * Authenticates. Credentials are checked first, so a valid key or token is never refused for
   * what other requests from the same address did; only failures count, and an address past
   * --auth-failure-limit failures a minute has its further failures refused with 429.
   */
  const authenticate = async (req: IncomingMessage, path: string): Promise<AuthInfo | undefined> => {
    if (!auth.enabled) return undefined;
    try {
      return await auth.authenticate(req);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      const ip = addresses.of(req);
      const address = `ip:${ip}`;
      const blocked = await authFailures.blocked(address);
      if (blocked) {
        audit.warn({ event: 'auth_throttled', path, ip }, 'authentication throttled');
        throw blocked;
      }
      await authFailures.failed(address);
      audit.warn({ event: 'auth_failed', path, ip, reason: e.message }, 'authentication failed');
      throw new HttpError('unauthorized', `${e.message} (send Authorization: Bearer <key or token> or X-API-Key)`, {
        rpcCode: -32001,
        headers: { 'www-authenticate': 'Bearer realm="hf-model-server"' },
      });
    }
  };

  /**
   * Admits a request's body before any of it is read: its declared length (or, sent without
   * one, the largest allowed body) must fit --max-body-size and the shared --body-budget, and it
   * must arrive within --body-timeout. The share returns when the response is done. A refused
   * request's body is never kept.
   */
  const admitBody = (req: IncomingMessage, res: ServerResponse): void => {
    const declared = req.headers['content-length'];
    const chunked = /chunked/i.test(String(req.headers['transfer-encoding'] ?? ''));
    if (declared === undefined && !chunked) return;
    const length = declared === undefined ? config.maxBodyBytes : Number(declared);
    if (length > config.maxBodyBytes) {
      discard(req, res);
      throw new HttpError('body_too_large', `request body larger than ${config.maxBodyBytes} bytes (--max-body-size)`, {
        rpcCode: -32600,
      });
    }
    const release = bodies.take(length);
    if (!release) {
      audit.warn(
        { event: 'body_budget_full', bytes: length, inUse: bodies.inUse, ip: addresses.of(req) },
        'request body refused: budget full',
      );
      discard(req, res);
      throw new HttpError(
        'overloaded',
        `the server is receiving ${Math.round(bodies.inUse / 2 ** 20)} MiB of request bodies already (--body-budget); retry shortly`,
        { status: 503, retryAfterMs: RETRY_HINT_MS },
      );
    }
    res.once('close', release);
    watchBody(req, res);
  };

  /**
   * Lets a refused request's body flow past without keeping any of it, so its client can read
   * the answer (closing at once would reset the connection under a client still writing); the
   * body timeout still bounds how long that may take.
   */
  const discard = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    watchBody(req, res);
  };

  /** Cuts off a body that has not arrived whole within --body-timeout: 408 if nothing was answered yet, then the connection goes. */
  const watchBody = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.complete) return;
    const timer = setTimeout(() => {
      if (req.complete) return;
      audit.warn({ event: 'body_timeout', ip: addresses.of(req) }, 'request body too slow; connection closed');
      if (res.headersSent) return void req.socket.destroy();
      const e = new HttpError('timeout', `the request body did not arrive within ${config.bodyTimeoutMs} ms (--body-timeout)`, {
        status: 408,
        headers: { connection: 'close' },
      });
      // Whatever is still arriving is not read: the connection goes, and its buffers with it.
      res.once('finish', () => req.socket.destroy());
      sendJson(res, e.status, e.body(), e.headers);
    }, config.bodyTimeoutMs);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  };

  /** Serves one MCP request on `transport`, answering what is left if the server gives up on it. */
  const serve = async (
    transport: TrackedTransport,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    flight: InFlight | undefined,
  ) => {
    if (flight) {
      flight.transport = transport;
      try {
        flight.ids = transport.note(messagesIn(body));
      } catch (e) {
        if (!(e instanceof DuplicateId)) throw e;
        sendJson(res, 400, {
          jsonrpc: '2.0',
          id: e.id,
          error: { code: -32600, message: e.message, data: { code: 'invalid_input', retryable: false } },
        });
        return;
      }
      // A client that disconnects before its answer has its requests cancelled, so queued work
      // is dropped and generation stops.
      res.on('close', () => {
        if (!res.writableFinished) transport.cancel(flight.ids, 'client disconnected');
      });
    }
    await transport.handleRequest(req, res, body);
  };

  const mcp = async (
    req: IncomingMessage,
    res: ServerResponse,
    authInfo: AuthInfo | undefined,
    flight: InFlight | undefined,
  ): Promise<void> => {
    if (closing) throw new HttpError('shutting_down', 'server is shutting down', { retryAfterMs: RETRY_HINT_MS });
    const client = clientOf(req, authInfo?.clientId);
    // A client already out of allowance is refused before its body is read or parsed.
    const exhausted = req.method === 'POST' ? await rate.check(client, 1, false) : undefined;
    if (exhausted) {
      auditLimited(client, 1);
      throw exhausted;
    }
    if (req.method === 'POST') admitBody(req, res);
    const body = req.method === 'POST' ? await readBody(req, config.maxBodyBytes) : undefined;
    const messages = messagesIn(body);
    // A subscription stream listens for as long as the client wants: like a GET event stream it
    // is not work in flight, so neither the request timeout nor the shutdown drain waits on it.
    if (flight && messages.length === 1 && (messages[0] as { method?: unknown }).method === 'subscriptions/listen') {
      flight.listen = true;
      posts.delete(flight);
      streams.add(res);
    }
    const limited = await rate.check(client, messages.length);
    if (limited) {
      auditLimited(client, messages.length);
      throw limited;
    }
    for (const m of messages) {
      const method = (m as { method?: unknown } | null)?.method;
      const scope = typeof method === 'string' ? METHOD_SCOPES[method] : undefined;
      if (scope && authInfo && !hasScope(authInfo.scopes, scope)) {
        throw new HttpError(
          'forbidden',
          `${method} needs the "${scope}" scope; the credentials have: ${authInfo.scopes.join(' ') || 'none'}`,
          { rpcCode: -32001 },
        );
      }
    }
    // A lone request whose params do not fit its method is answered here, with -32602 and one
    // line, instead of the SDK's -32603 and zod dump (mcp/params-check.ts).
    const bad = messages.length === 1 && !Array.isArray(body) ? invalidParams(body) : undefined;
    if (bad) {
      sendJson(res, 200, { jsonrpc: '2.0', id: (body as { id: unknown }).id, error: { code: INVALID_PARAMS, message: bad } });
      return;
    }
    if (authInfo) (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
    // The client's name for fair queuing, set here and only here (mcp/tools/register.ts).
    req.headers[CLIENT_HEADER] = client;
    if (await modern.isModern(req, body)) return modern.serve(req, res, body);

    if (config.stateless) {
      if (req.method !== 'POST')
        throw new HttpError('invalid_input', 'stateless mode: only POST is supported', { status: 405, headers: { allow: 'POST' } });
      const server = createServer(app.deps);
      const transport = new TrackedTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.server.connect(transport);
      return serve(transport, req, res, body, flight);
    }

    const owner = authInfo?.clientId ?? 'anonymous';
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      // Another credential's session is answered as if it did not exist: it may neither use,
      // close nor learn of it.
      if (!s || s.owner !== owner) {
        if (s) audit.warn({ event: 'session_owner_mismatch', client: owner, ip: addresses.of(req) }, 'session used with other credentials');
        throw new HttpError('not_found', 'session not found (it may have expired or been closed); initialize a new one', {
          rpcCode: -32001,
        });
      }
      if (req.method === 'POST') {
        s.active++;
        res.on('close', () => s.active--);
      }
      if (req.method === 'GET') {
        streams.add(res);
        s.streams++;
        res.on('close', () => {
          s.streams--;
          s.lastSeen = Date.now();
        });
      }
      return serve(s.transport, req, res, body, flight);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body))
      throw new HttpError('invalid_input', 'no mcp-session-id: send an initialize request first');
    // Without credentials, local processes are told apart where the kernel says who they are.
    const holder = authInfo ? client : (peers.of(req.socket) ?? client);
    const evicted = await sessions.admit(holder);
    if (evicted.length > 0) logger.info({ client: holder, sessions: evicted }, 'idle sessions closed to make room');
    const server = createServer(app.deps);
    const transport: TrackedTransport = new TrackedTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.add(id, {
          transport,
          mcp: server,
          client: holder,
          owner,
          lastSeen: Date.now(),
          active: 1,
          streams: 0,
          close: async () => {
            await transport.close().catch(() => undefined);
            await server.close().catch(() => undefined);
          },
        });
        res.on('close', () => {
          const s = sessions.get(id);
          if (s) s.active--;
        });
        logger.debug({ session: id, sessions: sessions.size }, 'session opened');
      },
      onsessionclosed: (id) => sessions.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.server.connect(transport);
    return serve(transport, req, res, body, flight);
  };

  /**
   * Serves a REST request: the same authentication, scopes (checked by each task), rate limit
   * (one message per request) and body limit as /mcp; errors in the route's client's shape. The
   * API description and its page are public.
   */
  const serveRest = async (m: RouteMatch, req: IncomingMessage, res: ServerResponse, url: URL, flight: InFlight | undefined) => {
    const { route, params } = m;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort(new ServerError('cancelled', 'the client disconnected'));
    });
    if (flight) flight.rest = { abort: (err) => ac.abort(err), style: route.style };
    try {
      const open = route.path === '/openapi.json' || route.path.startsWith('/docs');
      const authInfo = open ? undefined : await authenticate(req, route.path);
      if (!open) {
        if (closing) throw new HttpError('shutting_down', 'server is shutting down', { retryAfterMs: RETRY_HINT_MS });
        const client = clientOf(req, authInfo?.clientId);
        const limited = await rate.check(client, 1);
        if (limited) {
          auditLimited(client, 1);
          throw limited;
        }
        admitBody(req, res);
      }
      const client = clientOf(req, authInfo?.clientId);
      await route.handle({
        req,
        res,
        client,
        params,
        query: url.searchParams,
        auth: authInfo,
        signal: ac.signal,
        json: () => readBody(req, config.maxBodyBytes),
      });
    } catch (e) {
      const http = e instanceof HttpError ? e : undefined;
      const err = http ? new ServerError(http.code, http.message, { retryAfterMs: http.retryAfterMs }) : toServerError(e);
      if (err.code === 'internal' || err.code === 'inference_failed' || err.code === 'model_load_failed')
        logger.error({ path: route.path, code: err.code, err: err.message }, 'REST request failed');
      else logger.debug({ path: route.path, code: err.code, err: err.message }, 'REST request refused');
      if (res.headersSent) {
        if (!res.writableEnded) res.end();
        return;
      }
      const answer = errorReply(route.style, err, http?.status);
      sendJson(res, answer.status, answer.body, { ...answer.headers, ...http?.headers });
    }
  };

  /** The route table. */
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, flight: InFlight | undefined) => Promise<void>> = {
    '/health': async (_req, res) => sendJson(res, 200, { status: 'ok' }),
    '/ready': async (_req, res) =>
      ready() && !closing
        ? sendJson(res, 200, { status: 'ready', skills: app.deps.registry.skills.length })
        : sendJson(res, 503, { status: closing ? 'shutting_down' : 'loading' }),
    '/metrics': async (req, res) => {
      const who = await authenticate(req, '/metrics');
      if (who && !hasScope(who.scopes, METRICS_SCOPE)) throw new HttpError('forbidden', `/metrics needs the "${METRICS_SCOPE}" scope`);
      if (req.method !== 'GET') throw new HttpError('invalid_input', 'use GET', { status: 405, headers: { allow: 'GET' } });
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      metrics.flush();
      res.end(await metrics.registry.metrics());
    },
    '/mcp': async (req, res, flight) => mcp(req, res, await authenticate(req, '/mcp'), flight),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, port: number, flight: InFlight | undefined): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const badHost = checkHost(req, port, config);
    if (badHost) {
      audit.warn({ event: 'host_rejected', host: req.headers.host, ip: req.socket.remoteAddress }, 'request rejected: Host not allowed');
      throw badHost;
    }
    const origin = req.headers.origin;
    const badOrigin = checkOrigin(origin, req, config, Boolean(tls));
    if (badOrigin) {
      audit.warn({ event: 'origin_rejected', origin, ip: req.socket.remoteAddress }, 'request rejected: Origin not allowed');
      throw badOrigin;
    }
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'mcp-session-id');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers':
          'content-type, authorization, x-api-key, mcp-session-id, mcp-protocol-version, last-event-id, x-request-timeout-ms, cache-control',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const route = routes[url.pathname];
    if (route) return route(req, res, flight);
    const m = rest.match(req.method ?? 'GET', url.pathname);
    if (m && !('allowed' in m)) return serveRest(m, req, res, url, flight);
    // Anything else is answered as REST clients read errors (MCP clients only use /mcp).
    const err =
      m && 'allowed' in m
        ? new ServerError('invalid_input', `use ${m.allowed.join(' or ')} for ${url.pathname.slice(0, 100)}`)
        : new ServerError(
            'not_found',
            `no route ${url.pathname.slice(0, 100)}; MCP is served at /mcp, the API description at /openapi.json`,
          );
    const a = errorReply('openai', err);
    sendJson(res, m ? 405 : a.status, a.body, { ...a.headers, ...(m && 'allowed' in m ? { allow: m.allowed.join(', ') } : {}) });
  };

  const tls = config.tlsCert && config.tlsKey ? { cert: config.tlsCert, key: config.tlsKey } : undefined;
  const tlsFiles = () => ({ cert: readFileSync(tls!.cert), key: readFileSync(tls!.key) });
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // Work in flight = POSTs (GET streams are long-lived listeners, not work).
    eventStreams.watch(res);
    const flight: InFlight | undefined = req.method === 'POST' ? { res, ids: [] } : undefined;
    if (flight) posts.add(flight);
    res.on('close', () => {
      if (flight) posts.delete(flight);
      streams.delete(res);
    });
    if (flight) {
      const timer = setTimeout(() => {
        if (flight.listen) return;
        void giveUp(
          flight,
          new ServerError('timeout', `the request took longer than ${config.requestTimeoutMs} ms`, { retryAfterMs: RETRY_HINT_MS }),
        );
      }, config.requestTimeoutMs);
      timer.unref();
      res.on('close', () => clearTimeout(timer));
    }
    // The port this connection came in on: the edge's own, or the one of a server it is mounted in.
    const port = req.socket.localPort ?? config.port;
    handle(req, res, port, flight).catch((e: unknown) => {
      const err = e instanceof HttpError ? e : undefined;
      if (!err) logger.error({ err: (e as Error).message, path: req.url?.slice(0, 200) }, 'HTTP request failed');
      const answer = err ?? new HttpError('internal', 'internal error', { rpcCode: -32603 });
      sendJson(res, answer.status, answer.body(), answer.headers);
    });
  };
  // TLS 1.2 at least (1.3 is preferred when both sides have it).
  const http = tls ? createHttpsServer({ ...tlsFiles(), minVersion: 'TLSv1.2' }, onRequest) : createHttpServer(onRequest);
  // POSTs are bounded by the give-up timer above (which answers them); GET event streams are
  // long-lived listeners that Node must not cut.
  http.requestTimeout = 0;
  http.headersTimeout = Math.min(60_000, config.requestTimeoutMs);

  /** Answers what a POST still owes with `err`, then ends it. */
  async function giveUp(flight: InFlight, err: ServerError): Promise<void> {
    const { res } = flight;
    if (res.writableEnded) return;
    // The hint goes first: the transport ends the stream as soon as its last request is answered.
    eventStreams.hint(res);
    if (flight.transport && flight.ids.length > 0) await flight.transport.giveUp(flight.ids, err);
    if (flight.rest) {
      const { abort, style } = flight.rest;
      abort(err);
      // The route answers with the error when its work stops; this answers if it does not.
      setTimeout(() => {
        if (res.writableEnded) return;
        if (res.headersSent) return void res.end();
        const a = errorReply(style, err);
        sendJson(res, a.status, a.body, a.headers);
      }, 50).unref();
      return;
    }
    // The transport ends the stream once every request on it is answered; end it if it did not.
    setTimeout(() => {
      if (res.writableEnded) return;
      if (!res.headersSent) {
        const e = new HttpError(err.code, err.message, { retryAfterMs: err.retryAfterMs ?? RETRY_HINT_MS });
        sendJson(res, e.status, e.body(), e.headers);
      } else eventStreams.end(res);
    }, 50).unref();
  }

  const sweep = setInterval(
    () => {
      for (const [client, e] of limitLog) if (Date.now() - e.at > AUDIT_INTERVAL_MS) limitLog.delete(client);
      void sessions.sweep().then((ids) => {
        for (const id of ids) logger.info({ session: id }, 'session closed after idle timeout');
      });
    },
    Math.min(60_000, config.sessionIdleMs),
  );
  sweep.unref();

  let listening = false;
  const reloadTls = (): boolean => {
    if (!tls) return false;
    try {
      (http as ReturnType<typeof createHttpsServer>).setSecureContext({ ...tlsFiles(), minVersion: 'TLSv1.2' });
      logger.info({ cert: tls.cert }, 'TLS certificate reloaded');
      return true;
    } catch (e) {
      logger.error({ cert: tls.cert, err: (e as Error).message }, 'TLS certificate reload failed; still serving the previous one');
      return false;
    }
  };

  const close = async (graceMs = config.shutdownGraceMs): Promise<void> => {
    closing = true;
    clearInterval(sweep);
    const stopped = listening ? new Promise<void>((r) => http.close(() => r())) : Promise.resolve();
    http.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (posts.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const left = [...posts];
    if (left.length > 0)
      logger.warn({ requests: left.length }, 'shutdown grace over: answering the requests still running with shutting_down');
    const gone = new ServerError('shutting_down', `the server is shutting down and stopped this request after the ${graceMs} ms grace`, {
      retryAfterMs: RETRY_HINT_MS,
    });
    await Promise.all(left.map((f) => giveUp(f, gone)));
    for (const s of streams) eventStreams.end(s);
    await new Promise((r) => setTimeout(r, 100));
    await sessions.closeAll();
    await modern.close();
    http.closeAllConnections();
    await stopped;
  };

  return {
    handle: onRequest,
    inFlight: () => posts.size,
    close,
    listen: async () => {
      // The CLI says this before it starts; an application listening through the library gets the same refusal.
      const unsafe = bindSafetyError(config);
      if (unsafe) throw new ServerError('invalid_input', unsafe);
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, () => resolve());
      });
      listening = true;
      const port = (http.address() as AddressInfo).port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `${tls ? 'https' : 'http'}://${host}:${port}/mcp`;
      logger.info({ url, stateless: config.stateless, auth: auth.enabled, rateLimit: config.rateLimit }, 'HTTP transport listening');
      return { url, port, inFlight: () => posts.size, reloadTls, close };
    },
  };
}
