/**
 * Test harness: a real MCP Client connected to the real server over InMemoryTransport, with
 * generated models placed in a temporary --models-dir under the Hub ids the built-in skills name.
 */
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createApp, type App } from '../../src/app.js';
import { makeConfig } from '../../src/config/config.js';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { createServer } from '../../src/mcp/server.js';
import { ensureModel } from '../../tools/modelgen/cache.js';

/** A real MCP client (a 2025-era one, as most clients still are) connected to a new server in memory. */
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

/** Hub ids of built-in skills, mapped to the generated model standing in for them. */
export const MIRROR = {
  'Xenova/all-MiniLM-L6-v2': { arch: 'bert', size: 'minilm-l6' },
  'Xenova/distilbert-base-uncased-finetuned-sst-2-english': { arch: 'bert-classifier' },
  'Xenova/ms-marco-MiniLM-L-6-v2': { arch: 'bert-cross-encoder' },
  'Xenova/mobilebert-uncased-mnli': { arch: 'bert-nli' },
  'Xenova/bert-base-NER': { arch: 'bert-ner' },
  'Xenova/distilgpt2': { arch: 'gpt2' },
  'onnx-community/Qwen2.5-0.5B-Instruct': { arch: 'qwen2' },
  'Xenova/TinyLlama-1.1B-Chat-v1.0': { arch: 'llama' },
  'Xenova/flan-t5-small': { arch: 't5' },
  'Xenova/vit-base-patch16-224': { arch: 'vit' },
  'Xenova/detr-resnet-50': { arch: 'detr' },
  'Xenova/clip-vit-base-patch32': { arch: 'clip' },
  'Xenova/whisper-tiny': { arch: 'whisper' },
  'Xenova/vit-gpt2-image-captioning': { arch: 'vit-gpt2' },
} as const;

/** A temp models dir laid out as org/name/ (symlinks to cached fixtures). */
export function makeModelsDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'hfms-models-'));
  for (const [id, spec] of Object.entries(MIRROR)) {
    mkdirSync(dirname(join(root, id)), { recursive: true });
    symlinkSync(ensureModel(spec), join(root, id));
  }
  return root;
}

/** A copy of a generated model whose model.onnx is garbage. */
export function makeCorruptModel(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'hfms-corrupt-')), 'model');
  cpSync(ensureModel({ arch: 'bert' }), dir, { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), Buffer.from('this is not an onnx protobuf'));
  return dir;
}

/** Writes skill manifests into a fresh folder. */
export function makeSkillsDir(skills: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hfms-skills-'));
  for (const [file, body] of Object.entries(skills)) writeFileSync(join(dir, file), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}

/** Test skills: a chat model and a broken model, both generated. */
export function testSkills(): Record<string, unknown> {
  return {
    'tiny-chat.json': {
      name: 'tiny-chat',
      family: 'gpt2',
      architecture: 'decoder-only',
      tasks: ['text-generation'],
      description: 'Generated tiny GPT-2 with a chat template.',
      model: { id: ensureModel({ arch: 'gpt2', chat: true }) },
      generation: { max_new_tokens: 16, chat_template: true },
    },
    'broken.json': {
      name: 'broken-embedder',
      family: 'bert',
      architecture: 'encoder-only',
      tasks: ['feature-extraction'],
      description: 'A model whose ONNX file is corrupt.',
      model: { id: makeCorruptModel() },
    },
    'missing.json': {
      name: 'missing-embedder',
      family: 'bert',
      architecture: 'encoder-only',
      tasks: ['feature-extraction'],
      description: 'A Hub model that is not in the models dir.',
      model: { id: 'nobody/not-downloaded' },
    },
  };
}

/**
 * The environment for the server as a child process: offline, generated models under the
 * built-in skills' Hub ids, the test skills, a fresh download cache, one thread; `extra` adds or
 * overrides variables.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    HF_MODEL_SERVER_OFFLINE: '1',
    HF_MODEL_SERVER_MODELS_DIR: makeModelsDir(),
    HF_MODEL_SERVER_SKILLS_DIR: makeSkillsDir(testSkills()),
    HF_MODEL_SERVER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'hfms-cache-')),
    HF_MODEL_SERVER_THREADS: '1',
    ...extra,
  };
}

/** A connected client and server. */
export interface Harness {
  client: Client;
  app: App;
  modelsDir: string;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/**
 * Starts the server in-process, offline, with generated models and test skills; `builtin: false`
 * leaves out the built-in skills, `downloads: true` keeps the download cache (for tests that download).
 */
export async function startServer(
  overrides: Parameters<typeof makeConfig>[0] = {},
  o: { builtin?: boolean; downloads?: boolean } = {},
): Promise<Harness> {
  const modelsDir = makeModelsDir();
  // The response cache is off here so every call really runs; test/server/resilience.test.ts covers it.
  const config = makeConfig({
    offline: true,
    modelsDir,
    skillsDirs: [makeSkillsDir(testSkills())],
    threads: 1,
    cacheBytes: 0,
    ...overrides,
  });
  const app = createApp(config, {
    logger: pino({ level: 'silent' }),
    useFsCache: o.downloads === true,
    ...(o.builtin === false ? { builtinSkillsDir: null } : {}),
  });
  const { client, close } = await connectInMemory(app);
  // Listing the tools makes the client validate every structured result against its tool's
  // output schema (the server does not re-check its own outputs per call).
  await client.listTools();
  return {
    client,
    app,
    modelsDir,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await close();
      await app.close();
    },
  };
}

/** The `{ error }` body of an isError result. */
export function errorOf(r: CallToolResult): { code: string; message: string; retryable: boolean } {
  if (!r.isError) throw new Error(`expected an error result, got ${JSON.stringify(r).slice(0, 300)}`);
  const text = (r.content[0] as { text: string }).text;
  return JSON.parse(text).error;
}
