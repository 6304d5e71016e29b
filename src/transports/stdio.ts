/**
 * @module transports/stdio
 * MCP over stdio: a thin entry around createServer. stdout carries only protocol messages.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { App } from '../app.js';
import { createServer } from '../mcp/server.js';

/** Serves until stdin closes or a signal arrives, then unloads models. */
export async function runStdio(app: App): Promise<void> {
  const { server, close } = createServer(app.deps);
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    app.deps.logger.info({ why }, 'shutting down');
    await close().catch(() => undefined);
    await app.close();
    process.exit(0);
  };
  process.stdin.on('end', () => void shutdown('stdin closed'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await server.connect(transport);
  app.deps.logger.info({ transport: 'stdio' }, 'MCP server ready');
}
