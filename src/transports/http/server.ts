/**
 * @module transports/http/server
 * MCP over streamable HTTP at `/mcp` (stateful sessions by default, `--stateless` for replicas
 * behind a load balancer), plus `/health` (liveness), `/ready` (readiness) and `/metrics`
 * (Prometheus). The edge checks, in order: Host/Origin allowlist (DNS-rebinding protection),
 * CORS, API key, body size; then hands the request to the SDK transport. All sessions share the
 * process's one registry, loader and executor. `close()` stops accepting, lets requests in
 * flight finish within a grace period, then closes the sessions.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { App } from '../../app.js';
import { createServer, type CreatedServer } from '../../mcp/server.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthError, Authenticator } from './auth.js';

/** A running HTTP server. */
export interface HttpServer {
  url: string;
  port: number;
  /** Requests being handled now. */
  inFlight(): number;
  /** Stops accepting, waits up to `graceMs` for requests in flight, then closes sessions. */
  close(graceMs?: number): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  mcp: CreatedServer;
  lastSeen: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly rpcCode = -32000,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function rpcError(res: ServerResponse, e: HttpError): void {
  send(res, e.status, { jsonrpc: '2.0', error: { code: e.rpcCode, message: e.message }, id: null }, e.headers);
}

async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON', -32700);
  }
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** Starts the HTTP server on the configured host and port. */
export async function startHttp(app: App): Promise<HttpServer> {
  const { config, logger, loader, metrics } = app.deps;
  const auth = new Authenticator(config);
  const limiter = config.rateLimit > 0 ? new RateLimiterMemory({ points: config.rateLimit, duration: 60 }) : undefined;
  const sessions = new Map<string, Session>();
  const audit = logger.child({ audit: true });
  let inFlight = 0;
  let closing = false;

  const hostAllowed = (host: string | undefined, port: number): boolean => {
    if (!host) return false;
    const name = host.replace(/:\d+$/, '').toLowerCase();
    const allowed = [...LOOPBACK_NAMES, ...config.allowedHosts.map((h) => h.toLowerCase())];
    if (!['0.0.0.0', '::'].includes(config.host)) allowed.push(config.host.toLowerCase());
    return allowed.includes(name) || allowed.includes(host.toLowerCase()) || allowed.includes(`${name}:${port}`);
  };

  const ready = (): boolean => config.preload.every((m) => loader.status(m).status === 'loaded');

  const handle = async (req: IncomingMessage, res: ServerResponse, port: number): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!hostAllowed(req.headers.host, port)) {
      audit.warn({ event: 'host_rejected', host: req.headers.host, ip: req.socket.remoteAddress }, 'request rejected: Host not allowed');
      throw new HttpError(403, `Host "${req.headers.host}" is not allowed (DNS-rebinding protection); add it with --allowed-hosts`);
    }
    const origin = req.headers.origin;
    if (origin) {
      const sameHost = (() => {
        try {
          return hostAllowed(new URL(origin).host, port);
        } catch {
          return false;
        }
      })();
      if (!sameHost && !config.corsOrigins.includes(origin) && !config.corsOrigins.includes('*')) {
        throw new HttpError(403, `Origin "${origin}" is not allowed; add it with --cors-origins`);
      }
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'mcp-session-id');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization, x-api-key, mcp-session-id, mcp-protocol-version, last-event-id',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (url.pathname === '/health') return send(res, 200, { status: 'ok' });
    if (url.pathname === '/ready') {
      return ready() && !closing ? send(res, 200, { status: 'ready', skills: app.deps.registry.skills.length }) : send(res, 503, { status: closing ? 'shutting_down' : 'loading' });
    }
    if (url.pathname !== '/mcp' && url.pathname !== '/metrics') throw new HttpError(404, `no route ${url.pathname}; MCP is served at /mcp`);

    let authInfo: AuthInfo | undefined;
    try {
      authInfo = await auth.authenticate(req);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      audit.warn({ event: 'auth_failed', path: url.pathname, ip: req.socket.remoteAddress, reason: e.message }, 'authentication failed');
      throw new HttpError(401, `${e.message} (send Authorization: Bearer <key or token> or X-API-Key)`, -32001, { 'www-authenticate': 'Bearer realm="hf-model-server"' });
    }
    if (limiter && url.pathname === '/mcp' && req.method === 'POST') {
      const who = authInfo?.clientId ?? `ip:${req.socket.remoteAddress}`;
      try {
        await limiter.consume(who);
      } catch (r) {
        if (!(r instanceof RateLimiterRes)) throw r;
        const secs = Math.max(1, Math.ceil(r.msBeforeNext / 1000));
        audit.warn({ event: 'rate_limited', client: who, retryAfterS: secs }, 'rate limit hit');
        throw new HttpError(429, `rate limit of ${config.rateLimit} requests per minute exceeded; retry in ${secs} s`, -32000, { 'retry-after': String(secs) });
      }
    }
    if (authInfo) (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;

    if (url.pathname === '/metrics') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      metrics.flush();
      res.end(await metrics.registry.metrics());
      return;
    }
    if (closing) throw new HttpError(503, 'server is shutting down', -32000, { 'retry-after': '1' });

    const body = req.method === 'POST' ? await readBody(req, config.maxBodyBytes) : undefined;
    // A client that disconnects before its answer has its requests cancelled through the
    // protocol's own cancellation, so queued work is dropped and generation stops.
    const requestIds = (Array.isArray(body) ? body : [body])
      .filter((m): m is { id: string | number; method: string } => !!m && typeof m === 'object' && 'method' in m && 'id' in m)
      .map((m) => m.id);
    const cancelOnDisconnect = (transport: StreamableHTTPServerTransport) => {
      if (requestIds.length === 0) return;
      res.on('close', () => {
        if (res.writableFinished) return;
        for (const requestId of requestIds) {
          transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'client disconnected' } });
        }
      });
    };

    if (config.stateless) {
      if (req.method !== 'POST') throw new HttpError(405, 'stateless mode: only POST is supported', -32000, { allow: 'POST' });
      const mcp = createServer(app.deps);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      cancelOnDisconnect(transport);
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }

    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      if (!s) throw new HttpError(404, 'session not found (it may have expired); initialize a new one', -32001);
      s.lastSeen = Date.now();
      cancelOnDisconnect(s.transport);
      await s.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      throw new HttpError(400, 'no mcp-session-id: send an initialize request first', -32000);
    }
    if (sessions.size >= config.maxSessions) {
      throw new HttpError(503, `too many sessions (${config.maxSessions}); retry later`, -32000, { 'retry-after': '5' });
    }
    const mcp = createServer(app.deps);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, mcp, lastSeen: Date.now() });
        logger.debug({ session: id, sessions: sessions.size }, 'session opened');
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await mcp.server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http = createHttpServer((req, res) => {
    // Work in flight = POSTs (GET streams are long-lived listeners, not work).
    let done = req.method !== 'POST';
    if (!done) inFlight++;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on('close', finish);
    res.on('finish', finish);
    const timer = setTimeout(() => {
      if (res.headersSent) res.destroy();
      else send(res, 504, { jsonrpc: '2.0', error: { code: -32000, message: `request took longer than ${config.requestTimeoutMs} ms` }, id: null });
    }, config.requestTimeoutMs);
    timer.unref();
    res.on('close', () => clearTimeout(timer));
    const port = (http.address() as AddressInfo).port;
    handle(req, res, port).catch((e: unknown) => {
      if (e instanceof HttpError) rpcError(res, e);
      else {
        logger.error({ err: (e as Error).message, path: req.url }, 'HTTP request failed');
        rpcError(res, new HttpError(500, 'internal error', -32603));
      }
    });
  });
  http.requestTimeout = config.requestTimeoutMs;
  http.headersTimeout = Math.min(60_000, config.requestTimeoutMs);

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) {
      if (now - s.lastSeen > config.sessionIdleMs) {
        sessions.delete(id);
        void s.transport.close();
        void s.mcp.close();
        logger.info({ session: id }, 'session closed after idle timeout');
      }
    }
  }, Math.min(60_000, config.sessionIdleMs));
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}/mcp`;
  logger.info({ url, stateless: config.stateless, auth: auth.enabled, rateLimit: config.rateLimit }, 'HTTP transport listening');

  return {
    url,
    port,
    inFlight: () => inFlight,
    close: async (graceMs = config.shutdownGraceMs) => {
      closing = true;
      clearInterval(sweep);
      const stopped = new Promise<void>((r) => http.close(() => r()));
      http.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const [id, s] of sessions) {
        sessions.delete(id);
        await s.transport.close().catch(() => undefined);
        await s.mcp.close().catch(() => undefined);
      }
      http.closeAllConnections();
      await stopped;
    },
  };
}
