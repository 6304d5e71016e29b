/**
 * @module rest/sse
 * Server-sent events for streamed completions: the head is written with the first event, so a
 * request that fails before producing anything still gets a plain HTTP error status.
 */
import type { ServerResponse } from 'node:http';

export class EventStream {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  /** Whether anything has been sent. */
  get open(): boolean {
    return this.started;
  }

  /** Sends one `data:` event with `value` as JSON (or a raw string such as `[DONE]`), named `event` when given. */
  send(value: unknown, event?: string): void {
    const res = this.res;
    if (res.writableEnded || res.destroyed) return;
    if (!this.started) {
      this.started = true;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    }
    res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
