/**
 * @module transports/stdio
 * MCP over stdio through the SDK's era-aware entry (`serveStdio`: the opening exchange picks
 * the 2026-07-28 or the 2025 protocol, and one server from createServer serves the connection),
 * over a line transport of our own (below) so that oversized and invalid messages are answered
 * instead of ending the server. stdout carries only protocol messages.
 */
import type { Readable, Writable } from 'node:stream';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Logger } from '../logger.js';
import type { App } from '../app.js';
import { createServer } from '../mcp/server.js';
import { INVALID_PARAMS, invalidParams } from '../mcp/params-check.js';

/** What a JSON-RPC id looks like at the end (the SDK client writes it last) or start of a line. */
const TAIL_ID = /"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*\}\s*$/;
const HEAD_ID = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")/;

/** The id of a request too large to parse, when it can be seen at either end of the line. */
export function sniffId(head: string, tail: string): string | number | null {
  const m = TAIL_ID.exec(tail) ?? HEAD_ID.exec(head);
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as string | number;
  } catch {
    return null;
  }
}

/**
 * MCP over stdin/stdout, one JSON-RPC message per line. The SDK's stdio transport closes the
 * connection on any line over its buffer limit, and drops lines it cannot parse without a reply;
 * this one keeps serving (an SDK option to answer instead of closing would replace it):
 * - a line over the body limit (`--max-body-size`, the same limit HTTP applies, sized so one
 *   media input at the media limit fits as base64) is skipped as it streams in, and answered with
 *   an Invalid Request error carrying its id when the id can be seen;
 * - a line that is not JSON is answered with a Parse error;
 * - a JSON value that is not a valid JSON-RPC message is answered with Invalid Request (with its
 *   id, when it has one), and a request whose params do not fit its method with Invalid params
 *   (mcp/params-check.ts); the SDK then answers well-formed requests it cannot handle itself.
 * Every refusal is logged to stderr with its reason.
 */
export class StdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes of the current oversized line skipped so far (0 = not skipping). */
  private skipped = 0;
  private skipHead = '';
  private skipTail = '';
  private started = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly logger: Logger,
    private readonly input: Readable = process.stdin,
    private readonly protocolOut: Writable = process.stdout,
  ) {}

  private readonly ondata = (chunk: Buffer) => {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      const piece = chunk.subarray(from, nl < 0 ? chunk.length : nl);
      this.take(piece);
      if (nl < 0) return;
      this.endLine();
      from = nl + 1;
    }
  };

  private readonly onerrorEvent = (e: Error) => this.onerror?.(e);

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipped > 0) {
      this.skipped += piece.length;
      this.skipTail = (this.skipTail + piece.toString('latin1')).slice(-256);
      return;
    }
    if (this.size + piece.length > this.maxLineBytes) {
      const all = Buffer.concat([...this.chunks, piece]);
      this.skipHead = all.subarray(0, 256).toString('latin1');
      this.skipTail = all.subarray(-256).toString('latin1');
      this.skipped = all.length;
      this.chunks = [];
      this.size = 0;
      return;
    }
    this.chunks.push(Buffer.from(piece));
    this.size += piece.length;
  }

  private endLine(): void {
    if (this.skipped > 0) {
      const id = sniffId(this.skipHead, this.skipTail);
      const bytes = this.skipped;
      this.skipped = 0;
      this.logger.warn({ transport: 'stdio', bytes, limit: this.maxLineBytes, id }, 'message over the size limit refused');
      void this.reply(
        id,
        -32600,
        `message of ${bytes} bytes is over the ${this.maxLineBytes}-byte limit (--max-body-size); send large media as a file path or URL`,
      );
      return;
    }
    const line = Buffer.concat(this.chunks).toString('utf8').replace(/\r$/, '');
    this.chunks = [];
    this.size = 0;
    if (line.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.logger.warn({ transport: 'stdio', bytes: line.length }, 'message is not JSON');
      void this.reply(null, -32700, 'Parse error: the line is not valid JSON');
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      const raw = value as { id?: unknown; method?: unknown } | null;
      const id = raw && typeof raw === 'object' && (typeof raw.id === 'string' || typeof raw.id === 'number') ? raw.id : null;
      this.logger.warn(
        { transport: 'stdio', id, method: typeof raw?.method === 'string' ? raw.method.slice(0, 64) : undefined },
        'invalid JSON-RPC message refused',
      );
      // A notification (no id) gets no answer, as JSON-RPC says; anything else does.
      if (id !== null || !(raw && typeof raw === 'object' && 'method' in raw && !('id' in raw))) {
        void this.reply(
          id,
          -32600,
          'Invalid Request: not a valid JSON-RPC 2.0 message (jsonrpc, id, method and an object or absent params)',
        );
      }
      return;
    }
    const bad = invalidParams(parsed.data);
    if (bad) {
      const id = (parsed.data as { id: string | number }).id;
      this.logger.warn({ transport: 'stdio', id, reason: bad }, 'request with invalid params refused');
      void this.reply(id, INVALID_PARAMS, bad);
      return;
    }
    this.onmessage?.(parsed.data);
  }

  private reply(id: string | number | null, code: number, message: string): Promise<void> {
    return this.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`);
  }

  /** Resolves when the output drains; one wait shared by every write made while it is full. */
  private drained: Promise<void> | undefined;

  private write(text: string): Promise<void> {
    if (this.protocolOut.write(text)) return Promise.resolve();
    this.drained ??= new Promise((resolve) =>
      this.protocolOut.once('drain', () => {
        this.drained = undefined;
        resolve();
      }),
    );
    return this.drained;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('stdio transport already started');
    this.started = true;
    this.input.on('data', this.ondata);
    this.input.on('error', this.onerrorEvent);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    this.input.off('data', this.ondata);
    this.input.off('error', this.onerrorEvent);
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.chunks = [];
    this.onclose?.();
  }
}

/** Serves MCP on stdin/stdout; `onEnd` runs when the client closes stdin. */
export async function runStdio(app: App, onEnd: () => void): Promise<{ close(): Promise<void> }> {
  const { deps } = app;
  process.stdin.on('end', onEnd);
  const transport = new StdioTransport(deps.config.maxBodyBytes, deps.logger, process.stdin, process.stdout);
  const handle = serveStdio(() => createServer(deps).server, {
    transport,
    onerror: (err) => deps.logger.debug({ err, transport: 'stdio' }, 'stdio connection error'),
  });
  deps.logger.info({ transport: 'stdio' }, 'MCP server ready');
  return { close: () => handle.close() };
}
