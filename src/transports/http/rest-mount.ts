/**
 * @module transports/http/rest-mount
 * The REST routes of rest/ on the fastify edge. Each route passes the same edge as `/mcp` (its
 * hooks are the server's: authentication, the shutdown gate, one message against the rate limit,
 * the body gate) except the API description and its page, which are public. The handler then
 * owns the response: a route streams (event streams, files) and answers its errors in its own
 * clients' shape. A path that is not a route, or a method a path does not take, is answered as
 * REST clients read errors (MCP clients only use /mcp).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preParsingHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { ServerError, toServerError } from '../../errors.js';
import { RestRoutes, errorReply, sendJson, type RestRoute } from '../../rest/index.js';
import { HttpError } from './checks.js';
import type { Flights } from './flights.js';
import type { EdgeGuard } from './guard.js';

/** What the edge's hooks and error handler need to know of a route. */
export interface EdgeRoute {
  /** The error shape its clients read; JSON-RPC when absent. */
  style?: RestRoute['style'];
}

export interface RestMountHooks {
  /** Authentication, shutdown gate, one message against the rate limit. */
  admit: onRequestHookHandler;
  /** The body gate. */
  body: preParsingHookHandler;
}

/** fastify's path for a route: a trailing `{name}` may hold one slash (model names are often Hub ids), so it becomes a wildcard. */
function fastifyPath(path: string): { url: string; param?: string } {
  const m = /^(.*\/)\{(\w+)\}$/.exec(path);
  if (m) return { url: `${m[1]}*`, param: m[2]! };
  if (path.includes('{')) throw new Error(`route ${path}: only a trailing path parameter is supported`);
  return { url: path };
}

/** Mounts `rest`'s routes on `app`; also answers unknown paths and wrong methods. */
export function mountRest(
  app: FastifyInstance,
  rest: RestRoutes,
  hooks: RestMountHooks,
  guard: EdgeGuard,
  flights: Flights,
  logger: Logger,
): void {
  const notFound = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const m = rest.match(req.method ?? 'GET', path);
    const allowed = m && 'allowed' in m ? m.allowed : undefined;
    const err = allowed
      ? new ServerError('invalid_input', `use ${allowed.join(' or ')} for ${path.slice(0, 100)}`)
      : new ServerError('not_found', `no route ${path.slice(0, 100)}; MCP is served at /mcp, the API description at /openapi.json`);
    const a = errorReply('openai', err);
    sendJson(res, allowed ? 405 : a.status, a.body, { ...a.headers, ...(allowed ? { allow: allowed.join(', ') } : {}) });
  };

  for (const route of rest.routes) {
    const open = route.path === '/openapi.json' || route.path.startsWith('/docs');
    const { url, param } = fastifyPath(route.path);
    const config: EdgeRoute = { style: route.style };
    app.route({
      method: route.method,
      url,
      config,
      ...(open ? {} : { onRequest: hooks.admit, preParsing: hooks.body }),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        reply.hijack();
        const req = request.raw;
        const res = reply.raw;
        const params: Record<string, string> = {};
        if (param) {
          const value = (request.params as Record<string, string>)['*'] ?? '';
          if (value === '' || value.split('/').length > 2) return notFound(req, res);
          params[param] = value;
        }
        const ac = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) ac.abort(new ServerError('cancelled', 'the client disconnected'));
        });
        const flight = flights.of(req);
        if (flight) flight.rest = { abort: (err) => ac.abort(err), style: route.style };
        try {
          const caller = open ? undefined : guard.callerOf(req);
          await route.handle({
            req,
            res,
            client: caller?.client ?? `ip:${guard.addresses.of(req)}`,
            params,
            query: new URL(req.url ?? '/', 'http://localhost').searchParams,
            auth: caller?.auth,
            signal: ac.signal,
            json: async () => request.body,
          });
        } catch (e) {
          const http = e instanceof HttpError ? e : undefined;
          const err = toServerError(e);
          if (err.code === 'internal' || err.code === 'inference_failed' || err.code === 'model_load_failed')
            logger.error({ path: route.path, code: err.code, err }, 'REST request failed');
          else logger.debug({ path: route.path, code: err.code, err: err.message }, 'REST request refused');
          if (res.headersSent) {
            if (!res.writableEnded) res.end();
            return;
          }
          const answer = errorReply(route.style, err, http?.status);
          sendJson(res, answer.status, answer.body, { ...answer.headers, ...http?.headers });
        }
      },
    });
  }
  app.setNotFoundHandler((request, reply) => {
    reply.hijack();
    notFound(request.raw, reply.raw);
  });
}
