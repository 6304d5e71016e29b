/**
 * @module transports/http/server
 * The HTTP edge, on fastify: MCP at `/mcp` (mcp-endpoint.ts), the REST routes of rest/ (OpenAI,
 * TEI, task routes, `/openapi.json`, `/docs`; rest-mount.ts), `/health` (liveness), `/ready`
 * (readiness) and `/metrics` (Prometheus). This module puts the pieces in order: every request
 * passes the edge checks (guard.ts: Host, Origin/CORS, then for routes that do work the
 * failed-auth throttle, authentication, the shutdown gate and the rate limit), then the body gate
 * and fastify's parsing (body.ts), then its route. Work in flight is followed by flights.ts, so
 * the request timeout and the shutdown drain answer whatever is left. Refusals are HttpErrors from
 * the one catalogue; the error handler here shapes them for the route's clients (JSON-RPC, or the
 * REST route's OpenAI or TEI shape). fastify logs through the server's pino logger.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import { ServerError } from '../../errors.js';
import { RestRoutes, errorReply, sendJson } from '../../rest/index.js';
import { METRICS_SCOPE, hasScope } from '../../tasks/scopes.js';
import { bindSafetyError } from './auth.js';
import { BodyGate, useBodyParsers } from './body.js';
import { HttpError } from './checks.js';
import { Flights } from './flights.js';
import { EdgeGuard } from './guard.js';
import { McpEndpoint } from './mcp-endpoint.js';
import { mountRest, type EdgeRoute } from './rest-mount.js';

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
export interface HttpServer extends Pick<HttpEdge, 'inFlight' | 'close'> {
  url: string;
  port: number;
  /** Re-reads the TLS certificate and key (SIGHUP); connections made afterwards use them. A bad pair keeps the old one. */
  reloadTls(): boolean;
}

/** Starts the HTTP server on the configured host and port. */
export async function startHttp(app: App): Promise<HttpServer> {
  return createHttpEdge(app).listen();
}

/** An error from a hook, a parser or fastify itself, as an edge refusal. */
function edgeError(e: unknown, maxBodyBytes: number): HttpError | undefined {
  if (e instanceof HttpError) return e;
  const f = e as Partial<FastifyError>;
  if (typeof f.code !== 'string' || !f.code.startsWith('FST_') || typeof f.statusCode !== 'number') return undefined;
  if (f.statusCode === 413)
    return new HttpError('body_too_large', `request body larger than ${maxBodyBytes} bytes (--max-body-size)`, { rpcCode: -32600 });
  if (f.statusCode < 500)
    return new HttpError('invalid_input', (f.message ?? 'bad request').slice(0, 200), { status: f.statusCode, rpcCode: -32600 });
  return undefined;
}

/** Builds the HTTP edge over `app`: every check, MCP at /mcp, REST, operations routes. */
export function createHttpEdge(app: App): HttpEdge {
  const { config, logger, loader, metrics } = app.deps;
  const tls = config.tlsCert && config.tlsKey ? { cert: config.tlsCert, key: config.tlsKey } : undefined;
  const tlsOptions = () => ({ cert: readFileSync(tls!.cert), key: readFileSync(tls!.key), minVersion: 'TLSv1.2' as const });
  const guard = new EdgeGuard(config, logger, Boolean(tls));
  const bodies = new BodyGate(config, logger.child({ audit: true }), guard.addresses);
  const flights = new Flights(config.requestTimeoutMs, logger);
  const mcp = new McpEndpoint(app, guard, flights);
  const rest = new RestRoutes(app.deps, guard.auth.enabled);

  let server: Server | HttpsServer | undefined;
  const fastify = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request would flood the log; refusals are audited by the edge itself.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    // Model names in paths are Hub ids, sometimes long.
    routerOptions: { maxParamLength: 512 },
    // Requests during shutdown reach the edge, which answers them `shutting_down` in their shape.
    return503OnClosing: false,
    serverFactory: (handler) => {
      // TLS 1.2 at least (1.3 is preferred when both sides have it).
      server = tls ? createHttpsServer(tlsOptions(), handler) : createHttpServer(handler);
      // POSTs are bounded by the request timeout of flights.ts (which answers them); GET event
      // streams are long-lived listeners that Node must not cut.
      server.requestTimeout = 0;
      server.headersTimeout = Math.min(60_000, config.requestTimeoutMs);
      // An HTTPS server serves requests as an HTTP one does; fastify types its instance by one of them.
      return server as Server;
    },
    // A path fastify cannot route (a broken percent-escape): answered without echoing the path.
    frameworkErrors: (_e, _request, reply) => {
      const a = errorReply('openai', new ServerError('invalid_input', 'the request path is not valid (a broken percent-escape?)'));
      void (reply as FastifyReply).code(400).headers(a.headers).send(a.body);
    },
  });
  useBodyParsers(fastify);

  // Every request: followed while in flight, then Host, Origin and CORS (a preflight ends here).
  fastify.addHook('onRequest', async (request, reply) => {
    flights.begin(request.raw, reply.raw);
    if (guard.screen(request.raw, reply.raw)) {
      reply.hijack();
      return reply;
    }
    return undefined;
  });
  fastify.setErrorHandler((e: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const http = edgeError(e, config.maxBodyBytes);
    if (!http) logger.error({ err: e, path: request.url.slice(0, 200) }, 'HTTP request failed');
    const answer = http ?? new HttpError('internal', 'internal error', { rpcCode: -32603 });
    const style = (request.routeOptions.config as EdgeRoute).style;
    if (!style) return reply.code(answer.status).headers(answer.headers).send(answer.body());
    const a = errorReply(style, answer, answer.status);
    return reply
      .code(a.status)
      .headers({ ...a.headers, ...answer.headers })
      .send(a.body);
  });

  const body = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    bodies.admit(request.raw, reply.raw);
    return payload;
  };

  // Operations: liveness and readiness are open; metrics need the metrics scope when auth is on.
  const ready = (): boolean => config.preload.every((m) => loader.status(m).status === 'loaded');
  fastify.all('/health', async () => ({ status: 'ok' }));
  fastify.all('/ready', async (_request, reply) =>
    ready() && !guard.closing
      ? { status: 'ready', skills: app.deps.registry.skills.length }
      : reply.code(503).send({ status: guard.closing ? 'shutting_down' : 'loading' }),
  );
  fastify.all('/metrics', async (request, reply) => {
    const who = await guard.authenticate(request.raw, '/metrics');
    if (who && !hasScope(who.scopes, METRICS_SCOPE)) throw new HttpError('forbidden', `/metrics needs the "${METRICS_SCOPE}" scope`);
    if (request.method !== 'GET') throw new HttpError('invalid_input', 'use GET', { status: 405, headers: { allow: 'GET' } });
    metrics.flush();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // MCP: a client out of allowance is refused before its body is read; the endpoint counts each
  // message once the body is parsed.
  fastify.all('/mcp', {
    onRequest: async (request) => {
      const caller = await guard.admit(request.raw, '/mcp');
      if (request.method === 'POST') await guard.limit(caller.client, 1, false);
    },
    preParsing: body,
    handler: async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      try {
        await mcp.serve(request.raw, res, request.body, guard.callerOf(request.raw));
      } catch (e) {
        const http = edgeError(e, config.maxBodyBytes);
        if (!http) logger.error({ err: e }, 'MCP request failed');
        const answer = http ?? new HttpError('internal', 'internal error', { rpcCode: -32603 });
        if (res.headersSent) return void (res.writableEnded || res.end());
        sendJson(res, answer.status, answer.body(), answer.headers);
      }
    },
  });

  mountRest(
    fastify,
    rest,
    {
      admit: async (request) => {
        const caller = await guard.admit(request.raw, request.routeOptions.url ?? request.url);
        await guard.limit(caller.client, 1);
      },
      body,
    },
    guard,
    flights,
    logger,
  );
  const booted = fastify.ready();

  const sweep = setInterval(
    () => {
      guard.sweep();
      void mcp.sweep().then((ids) => {
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
      (server as HttpsServer).setSecureContext(tlsOptions());
      logger.info({ cert: tls.cert }, 'TLS certificate reloaded');
      return true;
    } catch (e) {
      logger.error({ cert: tls.cert, err: e }, 'TLS certificate reload failed; still serving the previous one');
      return false;
    }
  };

  const close = async (graceMs = config.shutdownGraceMs): Promise<void> => {
    guard.closing = true;
    clearInterval(sweep);
    // Stops accepting; resolves once every connection has ended.
    const stopped = fastify.close();
    server?.closeIdleConnections();
    await flights.drain(graceMs);
    await new Promise((r) => setTimeout(r, 100));
    await mcp.close();
    if (listening) server?.closeAllConnections();
    await stopped;
  };

  return {
    handle: (req: IncomingMessage, res: ServerResponse) => {
      void booted.then(
        () => fastify.routing(req, res),
        (err: unknown) => {
          logger.error({ err }, 'HTTP edge failed to start');
          res.destroy();
        },
      );
    },
    inFlight: () => flights.size,
    close,
    listen: async () => {
      // The CLI says this before it starts; an application listening through the library gets the same refusal.
      const unsafe = bindSafetyError(config);
      if (unsafe) throw new ServerError('invalid_input', unsafe);
      await booted;
      await fastify.listen({ port: config.port, host: config.host, listenTextResolver: () => 'HTTP edge bound' });
      listening = true;
      const port = (fastify.server.address() as AddressInfo).port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `${tls ? 'https' : 'http'}://${host}:${port}/mcp`;
      logger.info({ url, stateless: config.stateless, auth: guard.auth.enabled, rateLimit: config.rateLimit }, 'HTTP transport listening');
      return { url, port, inFlight: () => flights.size, reloadTls, close };
    },
  };
}
