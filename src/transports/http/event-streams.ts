/**
 * @module transports/http/event-streams
 * Event-stream responses and their reconnect hint: a stream the server ends (shutdown, a call it
 * gave up on) gets a `retry` line first, so its client reconnects, to another replica if need
 * be, instead of waiting.
 */
import type { ServerResponse } from 'node:http';

/** Reconnect delay suggested to event-stream clients when the server ends a stream. */
export const RETRY_HINT_MS = 1000;

/**
 * Which responses are event streams (the SDK sets their headers through writeHead, which
 * getHeader cannot see), and the `retry` hint that tells their clients to reconnect.
 */
export class EventStreams {
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
