/**
 * @module bench/naive-server
 * The baseline the engine benchmark compares against: an MCP server over stdio whose `embed`
 * tool runs one transformers.js pipeline call per request (no batching, no queue), the way thin
 * model wrappers do. Usage: naive-server.ts <model folder> <intra-op threads>.
 */
import { z } from 'zod';
import { env, pipeline } from '@huggingface/transformers';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

env.allowRemoteModels = false;
env.useFSCache = false;
const [dir, threads] = process.argv.slice(2);
const extractor = await pipeline('feature-extraction', dir!, {
  device: 'cpu',
  session_options: { intraOpNumThreads: Number(threads ?? 1) },
});
const server = new McpServer({ name: 'naive', version: '1' });
server.registerTool('embed', { description: 'naive embed', inputSchema: { texts: z.array(z.string()) } }, async ({ texts }) => {
  const out = await extractor(texts, { pooling: 'mean', normalize: true });
  return { content: [{ type: 'text', text: JSON.stringify({ embeddings: out.tolist() }) }] };
});
await server.connect(new StdioServerTransport());
