/**
 * @module bench/noop-server
 * The protocol floor the engine benchmark reports: an MCP server over stdio (the SDK's own server
 * and stdio transport) whose `embed` tool does no work and answers every call with one fixed
 * embedding result of the served shape (same fields and output schema as the real tool, `dims`
 * floats at the precision the real tool writes). What a single request costs through the MCP SDK
 * alone, before any tokenizing, inference or engine work.
 * Usage: noop-server.ts <dims>.
 */
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const dims = Number(process.argv[2] ?? 384);
// A unit vector with 9 significant digits per value, like the real tool's float32 output.
const raw = Array.from({ length: dims }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const norm = Math.hypot(...raw);
const vector = raw.map((x) => Number(Math.fround(x / norm).toPrecision(9)));

const server = new McpServer({ name: 'noop', version: '1' });
server.registerTool(
  'embed',
  {
    description: 'returns a fixed embedding',
    inputSchema: { texts: z.array(z.string()).min(1), model: z.string().optional() },
    outputSchema: {
      model: z.string(),
      dims: z.number().int(),
      encoding: z.enum(['float', 'base64']),
      embeddings: z.array(z.union([z.array(z.number()), z.string()])),
      usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
    },
  },
  async ({ texts }) => {
    const structured = {
      model: 'noop',
      dims,
      encoding: 'float' as const,
      embeddings: texts.map(() => vector),
      usage: { prompt_tokens: 16 * texts.length, total_tokens: 16 * texts.length },
    };
    return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
  },
);
await server.connect(new StdioServerTransport());
