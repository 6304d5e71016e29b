/**
 * @module transports/http/body
 * Request bodies at the edge. Before any of a body is read, it must fit --max-body-size and the
 * shared --body-budget, and it must arrive within --body-timeout (a fastify preParsing hook).
 * Then fastify's content-type parsing reads it under its body limit: JSON for everything but
 * multipart forms, which stay unread for the route to stream through its own limits
 * (rest/multipart.ts). A refused body is let flow past unkept, so its client can read the answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import { BodyBudget } from './body-budget.js';
import { HttpError } from './checks.js';
import type { ClientAddress } from './client-address.js';
import { RETRY_HINT_MS } from './event-streams.js';

export class BodyGate {
  private readonly budget: BodyBudget;

  constructor(
    private readonly config: Config,
    private readonly audit: Logger,
    private readonly addresses: ClientAddress,
  ) {
    this.budget = new BodyBudget(config.bodyBudgetBytes);
  }

  /**
   * Admits a request's body before any of it is read: its declared length (or, sent without
   * one, the largest allowed body) must fit --max-body-size and the shared --body-budget, and it
   * must arrive within --body-timeout. The share returns when the response is done.
   */
  admit(req: IncomingMessage, res: ServerResponse): void {
    const { config } = this;
    const declared = req.headers['content-length'];
    const chunked = /chunked/i.test(String(req.headers['transfer-encoding'] ?? ''));
    if (declared === undefined && !chunked) return;
    const length = declared === undefined ? config.maxBodyBytes : Number(declared);
    if (length > config.maxBodyBytes) {
      this.discard(req, res);
      throw new HttpError('body_too_large', `request body larger than ${config.maxBodyBytes} bytes (--max-body-size)`, {
        rpcCode: -32600,
      });
    }
    const release = this.budget.take(length);
    if (!release) {
      this.audit.warn(
        { event: 'body_budget_full', bytes: length, inUse: this.budget.inUse, ip: this.addresses.of(req) },
        'request body refused: budget full',
      );
      this.discard(req, res);
      throw new HttpError(
        'overloaded',
        `the server is receiving ${Math.round(this.budget.inUse / 2 ** 20)} MiB of request bodies already (--body-budget); retry shortly`,
        { status: 503, retryAfterMs: RETRY_HINT_MS },
      );
    }
    res.once('close', release);
    this.watch(req, res);
  }

  /**
   * Lets a refused request's body flow past without keeping any of it, so its client can read
   * the answer (closing at once would reset the connection under a client still writing); the
   * body timeout still bounds how long that may take.
   */
  private discard(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    this.watch(req, res);
  }

  /** Cuts off a body that has not arrived whole within --body-timeout: 408 if nothing was answered yet, then the connection goes. */
  private watch(req: IncomingMessage, res: ServerResponse): void {
    if (req.complete) return;
    const { bodyTimeoutMs } = this.config;
    const timer = setTimeout(() => {
      if (req.complete) return;
      this.audit.warn({ event: 'body_timeout', ip: this.addresses.of(req) }, 'request body too slow; connection closed');
      if (res.headersSent) return void req.socket.destroy();
      const e = new HttpError('timeout', `the request body did not arrive within ${bodyTimeoutMs} ms (--body-timeout)`, {
        status: 408,
        headers: { connection: 'close' },
      });
      // Whatever is still arriving is not read: the connection goes, and its buffers with it.
      res.once('finish', () => req.socket.destroy());
      const text = JSON.stringify(e.body());
      res.writeHead(e.status, { ...e.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    }, bodyTimeoutMs);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  }
}

/**
 * The edge's content-type parsers: a multipart form is left for its route to stream; any other
 * body is JSON (OpenAI and TEI clients, curl without a type), read under fastify's body limit.
 */
export function useBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(new HttpError('invalid_input', 'request body is not valid JSON', { rpcCode: -32700 }), undefined);
    }
  });
}
