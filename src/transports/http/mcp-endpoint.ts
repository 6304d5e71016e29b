/**
 * @module transports/http/mcp-endpoint
 * `/mcp`, once the edge has admitted a request and parsed its body: 2026-07-28 requests
 * (stateless by the revision) go to the SDK's per-request handler (modern.ts); 2025-era clients
 * get sessions beside it, stateful by default and `--stateless` for replicas behind a load
 * balancer. Before either sees a message, this counts the messages against the client's rate
 * limit, checks method scopes and answers params that do not fit their method. All sessions share
 * the process's one registry, loader and executor.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInitializeRequest, type AuthInfo } from '@modelcontextprotocol/server';
import type { App } from '../../app.js';
import { INVALID_PARAMS, invalidParams } from '../../mcp/params-check.js';
import { createServer, type CreatedServer } from '../../mcp/server.js';
import { CLIENT_HEADER } from '../../mcp/tools/register.js';
import { sendJson } from '../../rest/index.js';
import { READ_SCOPE, hasScope } from '../../tasks/scopes.js';
import { HttpError, messagesIn } from './checks.js';
import type { Flights } from './flights.js';
import type { Caller, EdgeGuard } from './guard.js';
import { LocalPeers } from './local-peer.js';
import { modernLeg, type ModernLeg } from './modern.js';
import { SessionStore, type SessionEntry } from './sessions.js';
import { DuplicateId, TrackedTransport } from './tracked-transport.js';

/** JSON-RPC methods that need a scope beyond being authenticated (tools and resources check their own). */
const METHOD_SCOPES: Record<string, string> = { 'logging/setLevel': READ_SCOPE };

interface Session extends SessionEntry {
  transport: TrackedTransport;
  mcp: CreatedServer;
  /** The credential that created it (key id or token subject; `anonymous` without auth): only it may use the session. */
  owner: string;
}

export class McpEndpoint {
  private readonly sessions: SessionStore<Session>;
  private readonly peers = new LocalPeers();
  private readonly modern: ModernLeg;

  constructor(
    private readonly app: App,
    private readonly guard: EdgeGuard,
    private readonly flights: Flights,
  ) {
    const { config } = app.deps;
    this.sessions = new SessionStore<Session>({
      max: config.maxSessions,
      perClient: config.maxSessionsPerClient,
      idleMs: config.sessionIdleMs,
    });
    this.modern = modernLeg(app.deps);
  }

  /** Serves one request whose body (if any) the edge has read. */
  async serve(req: IncomingMessage, res: ServerResponse, body: unknown, caller: Caller): Promise<void> {
    const { auth } = caller;
    const messages = messagesIn(body);
    // A subscription stream listens for as long as the client wants: like a GET event stream it
    // is not work in flight, so neither the request timeout nor the shutdown drain waits on it.
    if (messages.length === 1 && (messages[0] as { method?: unknown }).method === 'subscriptions/listen') this.flights.listener(req, res);
    await this.guard.limit(caller.client, messages.length);
    for (const m of messages) {
      const method = (m as { method?: unknown } | null)?.method;
      const scope = typeof method === 'string' ? METHOD_SCOPES[method] : undefined;
      if (scope && auth && !hasScope(auth.scopes, scope)) {
        throw new HttpError('forbidden', `${method} needs the "${scope}" scope; the credentials have: ${auth.scopes.join(' ') || 'none'}`, {
          rpcCode: -32001,
        });
      }
    }
    // A lone request whose params do not fit its method is answered here, with -32602 and one
    // line, instead of the SDK's -32603 and zod dump (mcp/params-check.ts).
    const bad = messages.length === 1 && !Array.isArray(body) ? invalidParams(body) : undefined;
    if (bad) {
      sendJson(res, 200, { jsonrpc: '2.0', id: (body as { id: unknown }).id, error: { code: INVALID_PARAMS, message: bad } });
      return;
    }
    // The SDK hands `auth` on the Node request to its handlers as the request's credentials.
    if (auth) (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    // The client's name for fair queuing, set here and only here (mcp/tools/register.ts).
    req.headers[CLIENT_HEADER] = caller.client;
    if (await this.modern.isModern(req, body)) return this.modern.serve(req, res, body);
    if (this.app.deps.config.stateless) return this.serveStateless(req, res, body);
    return this.serveSession(req, res, body, caller);
  }

  /** Closes idle sessions; returns their ids. */
  sweep(): Promise<string[]> {
    return this.sessions.sweep();
  }

  /** Closes every session and the 2026 handler. */
  async close(): Promise<void> {
    await this.sessions.closeAll();
    await this.modern.close();
  }

  /** A 2025-era request under --stateless: a server of its own, closed with the response. */
  private async serveStateless(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (req.method !== 'POST')
      throw new HttpError('invalid_input', 'stateless mode: only POST is supported', { status: 405, headers: { allow: 'POST' } });
    const server = createServer(this.app.deps);
    const transport = new TrackedTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.server.connect(transport);
    return this.onTransport(transport, req, res, body);
  }

  /** A 2025-era request with sessions: into its session, or an initialize that opens one. */
  private async serveSession(req: IncomingMessage, res: ServerResponse, body: unknown, caller: Caller): Promise<void> {
    const { logger } = this.app.deps;
    const { sessions } = this;
    const owner = caller.auth?.clientId ?? 'anonymous';
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      // Another credential's session is answered as if it did not exist: it may neither use,
      // close nor learn of it.
      if (!s || s.owner !== owner) {
        if (s)
          logger
            .child({ audit: true })
            .warn(
              { event: 'session_owner_mismatch', client: owner, ip: this.guard.addresses.of(req) },
              'session used with other credentials',
            );
        throw new HttpError('not_found', 'session not found (it may have expired or been closed); initialize a new one', {
          rpcCode: -32001,
        });
      }
      if (req.method === 'POST') {
        s.active++;
        res.on('close', () => s.active--);
      }
      if (req.method === 'GET') {
        this.flights.listener(req, res);
        s.streams++;
        res.on('close', () => {
          s.streams--;
          s.lastSeen = Date.now();
        });
      }
      return this.onTransport(s.transport, req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body))
      throw new HttpError('invalid_input', 'no mcp-session-id: send an initialize request first');
    // Without credentials, local processes are told apart where the kernel says who they are.
    const holder = caller.auth ? caller.client : (this.peers.of(req.socket) ?? caller.client);
    const evicted = await sessions.admit(holder);
    if (evicted.length > 0) logger.info({ client: holder, sessions: evicted }, 'idle sessions closed to make room');
    const server = createServer(this.app.deps);
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
    return this.onTransport(transport, req, res, body);
  }

  /** Serves one request on a session-leg transport, answering what is left if the server gives up on it. */
  private async onTransport(transport: TrackedTransport, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const flight = this.flights.of(req);
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
  }
}
