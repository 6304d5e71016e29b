/**
 * @module transports/stdio
 * MCP over stdio: a thin entry around createServer. stdout carries only protocol messages.
 * Tool results are written with the JSON text ToolResults.ok() already made for their structured
 * content (see {@link serializeLine}), so an embedding's numbers are formatted once, not twice.
 */
import type { Writable } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { App } from '../app.js';
import type { ToolResults } from '../mcp/results.js';
import { createServer } from '../mcp/server.js';

const PLACEHOLDER = '\u0000structuredContent\u0000';
const MARKER = `"structuredContent":${JSON.stringify(PLACEHOLDER)}`;

/**
 * One protocol line, byte for byte what `JSON.stringify(message) + '\n'` gives. When the message
 * is a tool result whose structured content ok() already serialized, that text is spliced in
 * where the content goes (found by a marker that can only appear as a real key: inside JSON
 * strings every quote is escaped).
 */
export function serializeLine(message: JSONRPCMessage, results: ToolResults): string {
  const result = (message as { result?: Record<string, unknown> }).result;
  const sc = result?.structuredContent;
  const text = sc !== null && typeof sc === 'object' ? results.jsonOf(sc as Record<string, unknown>) : undefined;
  if (text === undefined) return `${JSON.stringify(message)}\n`;
  const head = JSON.stringify({ ...message, result: { ...result, structuredContent: PLACEHOLDER } });
  const at = head.lastIndexOf(MARKER);
  if (at < 0) return `${JSON.stringify(message)}\n`;
  return `${head.slice(0, at)}"structuredContent":${text}${head.slice(at + MARKER.length)}\n`;
}

/** The SDK's stdio transport (reading stdin), writing protocol lines made by {@link serializeLine}. */
class StdioTransport extends StdioServerTransport {
  constructor(
    private readonly results: ToolResults,
    private readonly protocolOut: Writable = process.stdout,
  ) {
    super(process.stdin, protocolOut);
  }

  override send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.protocolOut.write(serializeLine(message, this.results))) resolve();
      else this.protocolOut.once('drain', resolve);
    });
  }
}

/** Serves MCP on stdin/stdout; `onEnd` runs when the client closes stdin. */
export async function runStdio(app: App, onEnd: () => void): Promise<{ close(): Promise<void> }> {
  const { server, close } = createServer(app.deps);
  process.stdin.on('end', onEnd);
  await server.connect(new StdioTransport(app.deps.results));
  app.deps.logger.info({ transport: 'stdio' }, 'MCP server ready');
  return { close };
}
