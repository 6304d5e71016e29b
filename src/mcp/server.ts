/**
 * @module mcp/server
 * The one MCP server factory, on the SDK's v2 line. `createServer(deps)` returns `{ server,
 * close }`: one instance per stdio connection, per 2025-era HTTP session, or per 2026-07-28
 * HTTP request, all registering the same tools and resources, so both protocol eras see the
 * same surface. Nothing here patches the SDK: arguments are validated by the task layer
 * (mcp/schemas.ts), and every failure becomes the catalogue's result in mcp/results.ts.
 */
import { McpServer } from '@modelcontextprotocol/server';
import type { ServerDeps } from './deps.js';
import { VERSION } from '../version.js';
import { registerResources } from './resources/index.js';
import { registerTools } from './tools/register.js';
import { TASKS_EXTENSION } from './tasks.js';

/** A server and how to close it. */
export interface CreatedServer {
  server: McpServer;
  close(): Promise<void>;
}

const INSTRUCTIONS =
  'Local Hugging Face models as tools. Use `similarity` to rank texts (not `embed`), `classify` for labels, ' +
  "`generate` for text. Each tool's `model` argument lists the models available; read hf://models for details. " +
  'Errors carry a stable `code`; retry only when `retryable` is true.';

/**
 * How long a 2026-07-28 client may keep the lists before asking again. A skills change is
 * announced at once (list_changed on subscriptions), so the lifetime only bounds how stale a
 * client that does not listen can be.
 */
export const LIST_TTL_MS = 30_000;

export function createServer(deps: ServerDeps): CreatedServer {
  const listHint = { ttlMs: LIST_TTL_MS, cacheScope: 'public' as const };
  const server = new McpServer(
    { name: 'hf-model-server', version: VERSION, title: 'HF Model Server' },
    {
      capabilities: {
        logging: {},
        resources: { subscribe: true, listChanged: true },
        tools: { listChanged: true },
        extensions: { [TASKS_EXTENSION]: {} },
      },
      instructions: INSTRUCTIONS,
      // A skills change re-registers several tools at once: clients get one notification.
      debouncedNotificationMethods: ['notifications/tools/list_changed', 'notifications/resources/list_changed'],
      cacheHints: { 'tools/list': listHint, 'resources/list': listHint, 'resources/templates/list': listHint, 'server/discover': listHint },
    },
  );
  const stopTools = registerTools(server, deps);
  const stopResources = registerResources(server, deps);
  let stopped = false;
  // However the connection ends, the server stops following skill and model changes.
  const stop = () => {
    if (stopped) return;
    stopped = true;
    stopTools();
    stopResources();
  };
  const onclose = server.server.onclose;
  server.server.onclose = () => {
    stop();
    onclose?.();
  };
  return {
    server,
    close: () => {
      stop();
      return server.close();
    },
  };
}
