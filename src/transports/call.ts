/**
 * @module transports/call
 * `hf-model-server call <tool> '<json>'`: runs one tool once through a real in-memory MCP
 * client and returns the result. The quickest way for a person to try the server, so it is
 * stricter than the protocol: an unknown tool lists the tools, and unknown argument keys are
 * reported instead of ignored.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { App } from '../app.js';
import { ServerError, echo } from '../errors.js';
import { createServer } from '../mcp/server.js';

/** Calls `tool` with JSON `args`; throws ServerError('invalid_input') if args is not a JSON object. */
export async function callOnce(app: App, tool: string, args: string): Promise<CallToolResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch (e) {
    throw new ServerError('invalid_input', `arguments are not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ServerError('invalid_input', 'arguments must be a JSON object');
  const { client, close } = await connectInMemory(app, 'hf-model-server-call');
  try {
    const { tools } = await client.listTools();
    const target = tools.find((t) => t.name === tool);
    if (!target) throw new ServerError('unknown_tool', `unknown tool ${echo(tool)}; tools: ${tools.map((t) => t.name).join(', ')}`);
    // A misspelt argument would otherwise be dropped silently and its default used.
    const known = Object.keys(target.inputSchema.properties ?? {});
    const unknown = Object.keys(parsed as object).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
      throw new ServerError(
        'invalid_input',
        `unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => echo(k)).join(', ')} for ${tool}; valid: ${known.join(', ')}`,
      );
    }
    return (await client.callTool({ name: tool, arguments: parsed as Record<string, unknown> })) as CallToolResult;
  } finally {
    await close();
  }
}

/** A real MCP client connected to a new server over an in-memory transport (also used by tests). */
export async function connectInMemory(app: App, clientName = 'in-memory'): Promise<{ client: Client; close(): Promise<void> }> {
  const { server, close } = createServer(app.deps);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: clientName, version: '1' });
  await server.connect(a);
  await client.connect(b);
  return {
    client,
    close: async () => {
      await client.close();
      await close();
    },
  };
}
