/**
 * @module transports/call
 * `hf-model-server call <tool> '<json>'`: runs one tool once through a real in-memory MCP
 * client and returns the result. The quickest way for a person to try the server.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { App } from '../app.js';
import { ServerError } from '../errors.js';
import { createServer } from '../mcp/server.js';

/** Calls `tool` with JSON `args`; throws ServerError('invalid_input') if args is not a JSON object. */
export async function callOnce(app: App, tool: string, args: string): Promise<CallToolResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch (e) {
    throw new ServerError('invalid_input', `arguments are not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ServerError('invalid_input', 'arguments must be a JSON object');
  const { server, close } = createServer(app.deps);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'hf-model-server-call', version: '1' });
  await server.connect(a);
  await client.connect(b);
  try {
    return (await client.callTool({ name: tool, arguments: parsed as Record<string, unknown> })) as CallToolResult;
  } finally {
    await client.close();
    await close();
  }
}
