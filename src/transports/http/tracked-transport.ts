/**
 * @module transports/http/tracked-transport
 * The 2025-era session leg's transport: the SDK's Node streamable HTTP transport, plus a record of
 * which requests on it are still unanswered, so the edge can answer them itself (timeout,
 * shutdown) and cancel their work when it gives up on them or their client leaves.
 */
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { JSONRPCMessage, TransportSendOptions } from '@modelcontextprotocol/server';
import type { ServerError } from '../../errors.js';
import { fail } from '../../mcp/results.js';

/**
 * A streamable HTTP transport that knows which of its requests are still unanswered, so the
 * server can answer them itself when it gives up on them.
 */
export class TrackedTransport extends NodeStreamableHTTPServerTransport {
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
export class DuplicateId extends Error {
  constructor(readonly id: string | number) {
    super(`request id ${JSON.stringify(id).slice(0, 80)} is already in flight on this session; use a new id`);
  }
}
