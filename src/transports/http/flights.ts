/**
 * @module transports/http/flights
 * The work in flight at the edge, so that no request is dropped without an answer: a POST still
 * running at the request timeout, or at the end of the shutdown grace, gets an error (`timeout` or
 * `shutting_down`) for each of its pending requests, in its clients' shape, and its work is
 * cancelled; event streams get a `retry` hint before they close, so clients reconnect (to another
 * replica) instead of waiting. GET event streams and 2026-07-28 `subscriptions/listen` streams are
 * listeners, not work: the timeout and the drain leave them be.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ServerError } from '../../errors.js';
import { errorReply, sendJson, type ErrorStyle } from '../../rest/index.js';
import { HttpError } from './checks.js';
import { EventStreams, RETRY_HINT_MS } from './event-streams.js';
import type { TrackedTransport } from './tracked-transport.js';

/** A POST being handled: what to answer if the server gives up on it. */
export interface InFlight {
  res: ServerResponse;
  /** An MCP session-leg request: its transport and the ids it carries. */
  transport?: TrackedTransport;
  ids: Array<string | number>;
  /** A REST request: how to stop its work, and the error shape its client reads. */
  rest?: { abort: (err: ServerError) => void; style: ErrorStyle };
}

export class Flights {
  private readonly posts = new Set<InFlight>();
  private readonly byRequest = new WeakMap<IncomingMessage, InFlight>();
  private readonly streams = new Set<ServerResponse>();
  private readonly events = new EventStreams();

  constructor(
    private readonly requestTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Requests being worked on now. */
  get size(): number {
    return this.posts.size;
  }

  /** Starts following a request: a POST is work, answered by the timeout if it runs too long. */
  begin(req: IncomingMessage, res: ServerResponse): void {
    this.events.watch(res);
    res.on('close', () => this.streams.delete(res));
    if (req.method !== 'POST') return;
    const flight: InFlight = { res, ids: [] };
    this.posts.add(flight);
    this.byRequest.set(req, flight);
    const timer = setTimeout(() => {
      if (!this.posts.has(flight)) return;
      const err = new ServerError('timeout', `the request took longer than ${this.requestTimeoutMs} ms`, { retryAfterMs: RETRY_HINT_MS });
      void this.giveUp(flight, err);
    }, this.requestTimeoutMs);
    timer.unref();
    res.on('close', () => {
      clearTimeout(timer);
      this.posts.delete(flight);
    });
  }

  /** The flight of a POST. */
  of(req: IncomingMessage): InFlight | undefined {
    return this.byRequest.get(req);
  }

  /** Marks a response as a long-lived listener: no longer work, but told to reconnect at shutdown. */
  listener(req: IncomingMessage, res: ServerResponse): void {
    const flight = this.byRequest.get(req);
    if (flight) this.posts.delete(flight);
    this.streams.add(res);
  }

  /**
   * Waits up to `graceMs` for the work in flight, answers what is left with `shutting_down`, and
   * ends the listeners' streams with a reconnect hint.
   */
  async drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.posts.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const left = [...this.posts];
    if (left.length > 0)
      this.logger.warn({ requests: left.length }, 'shutdown grace over: answering the requests still running with shutting_down');
    const gone = new ServerError('shutting_down', `the server is shutting down and stopped this request after the ${graceMs} ms grace`, {
      retryAfterMs: RETRY_HINT_MS,
    });
    await Promise.all(left.map((f) => this.giveUp(f, gone)));
    for (const s of this.streams) this.events.end(s);
  }

  /** Answers what a POST still owes with `err`, then ends it. */
  async giveUp(flight: InFlight, err: ServerError): Promise<void> {
    const { res } = flight;
    if (res.writableEnded) return;
    // The hint goes first: the transport ends the stream as soon as its last request is answered.
    this.events.hint(res);
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
      } else this.events.end(res);
    }, 50).unref();
  }
}
