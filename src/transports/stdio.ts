/**
 * @module transports/stdio
 * MCP over stdio: a thin entry around createServer. stdout carries only protocol messages.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { App } from '../app.js';
import { createServer } from '../mcp/server.js';

/** Serves MCP on stdin/stdout; `onEnd` runs when the client closes stdin. */
export async function runStdio(app: App, onEnd: () => void): Promise<{ close(): Promise<void> }> {
  const { server, close } = createServer(app.deps);
  process.stdin.on('end', onEnd);
  await server.connect(new StdioServerTransport());
  app.deps.logger.info({ transport: 'stdio' }, 'MCP server ready');
  return { close };
}
