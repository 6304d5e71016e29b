/**
 * @module bench/noop-server
 * The protocol floor the engine benchmark reports: an MCP server over stdio (the SDK's own server
 * and stdio transport) whose `embed` tool does no work and answers every call with one fixed
 * embedding result: one the real server produced (the engine benchmark passes it in a file), so
 * both servers write, and the client reads, the same bytes. Like the real server at its defaults
 * it lists no output schema (the benchmark checks that both list the same output fields). What a single request costs through
 * the MCP SDK alone, before any tokenizing, inference or engine work.
 * Usage: noop-server.ts <result.json>.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const result = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, unknown>;
const text = JSON.stringify(result);

const server = new McpServer({ name: 'noop', version: '1' });
server.registerTool(
  'embed',
  {
    description: 'returns a fixed embedding',
    inputSchema: { texts: z.array(z.string()).min(1), model: z.string().optional() },
  },
  async () => ({ content: [{ type: 'text', text }], structuredContent: result }),
);
await server.connect(new StdioServerTransport());
