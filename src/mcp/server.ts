/**
 * @module mcp/server
 * The one MCP server factory. `createServer(deps)` returns `{ server, close }`; every transport
 * is a thin entry around it. SDK-generated tool errors (argument validation, unknown tool) are
 * rewritten here into the catalog's shape, so every failure carries a stable code. Tool outputs
 * are not re-validated per call (see below); tests validate them against the output schemas.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerDeps } from './deps.js';
import { VERSION } from '../version.js';
import { registerResources } from './resources/index.js';
import { fail, fromSdkMessage } from './results.js';
import { registerTools } from './tools/register.js';
import { mapSdkToolErrors, skipOutputRevalidation } from './sdk-internals.js';

/** A server and how to close it. */
export interface CreatedServer {
  server: McpServer;
  close(): Promise<void>;
}

const INSTRUCTIONS =
  'Local Hugging Face models as tools. Use `similarity` to rank texts (not `embed`), `classify` for labels, ' +
  "`generate` for text. Each tool's `model` argument lists the models available; read hf://models for details. " +
  'Errors carry a stable `code`; retry only when `retryable` is true.';

export function createServer(deps: ServerDeps): CreatedServer {
  const server = new McpServer(
    { name: 'hf-model-server', version: VERSION, title: 'HF Model Server' },
    {
      capabilities: { logging: {}, resources: { subscribe: true, listChanged: true }, tools: { listChanged: true } },
      instructions: INSTRUCTIONS,
      // A skills change re-registers several tools at once: clients get one notification.
      debouncedNotificationMethods: ['notifications/tools/list_changed', 'notifications/resources/list_changed'],
    },
  );
  // SDK-made tool errors get the catalog's shape; structured results, built by ToolResults.ok()
  // from typed values and validated by the tests' client, are not re-parsed per call.
  mapSdkToolErrors(server, (message) => fail(fromSdkMessage(message)));
  skipOutputRevalidation(server);
  const stopTools = registerTools(server, deps);
  const stopResources = registerResources(server, deps);
  // However the connection ends, the server stops following skill and model changes.
  const stop = () => {
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
