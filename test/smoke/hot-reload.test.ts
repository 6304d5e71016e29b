/**
 * Hot reload of skills with the built CLI, through a real SDK client over stdio and over
 * streamable HTTP: the server watches its --skills-dir, and
 * - a manifest dropped in produces tools/list_changed within 2 s, the model is in the tool's
 *   enum and answers;
 * - editing it (another model folder) reloads: the answer changes;
 * - a broken file changes nothing else: no tool change, the model still answers the same, and
 *   hf://models lists the file as invalid with its reason;
 * - deleting a manifest removes its model (unknown_model for new calls) while a generation
 *   already running on it completes.
 * - a subscriber to hf://models hears the model's arrival and load (resources/updated).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn.js';
import { errorOf } from '../helpers/server.js';

const manifest = (name: string, task: string, id: string, family = 'bert') =>
  JSON.stringify({
    name,
    family,
    architecture: family === 'gpt2' ? 'decoder-only' : 'encoder-only',
    tasks: [task],
    description: `hot ${name}`,
    model: { id },
  });

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A fresh server folder layout and the CLI arguments that use it. */
function layout() {
  const skills = mkdtempSync(join(tmpdir(), 'hfms-hot-skills-'));
  const home = mkdtempSync(join(tmpdir(), 'hfms-hot-home-'));
  const args = ['--offline', '--skills-dir', skills, '--cache-size', '0', '--threads', '1'];
  const env = { PATH: process.env.PATH!, HOME: home };
  return { skills, args, env };
}

/** The scenario, on a connected client whose server watches `skills`. */
async function scenario(client: Client, skills: string): Promise<void> {
  let waiter: (() => void) | undefined;
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    changes++;
    waiter?.();
  });
  /** Runs `act` and resolves with the ms until the next tools/list_changed (fails past 2 s). */
  const change = async (act: () => void): Promise<number> => {
    const t0 = performance.now();
    const seen = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no tools/list_changed within 2 s')), 2000);
      waiter = () => {
        clearTimeout(t);
        resolve();
      };
    });
    act();
    await seen;
    waiter = undefined;
    return performance.now() - t0;
  };
  const enumOf = async (tool: string) => {
    const t = (await client.listTools()).tools.find((x) => x.name === tool);
    return (t?.inputSchema.properties?.model as { enum?: string[] } | undefined)?.enum ?? [];
  };
  const embed = async (model: string) => {
    const r = (await client.callTool({ name: 'embed', arguments: { model, texts: ['hot reload'] } })) as CallToolResult;
    expect(r.isError).toBeFalsy();
    return (r.structuredContent as { embeddings: number[][] }).embeddings[0]!;
  };

  // Model folders are built (or found in the cache) before any timing starts.
  const [bertA, bertB, gpt2] = [
    ensureModel({ arch: 'bert', seed: 21 }),
    ensureModel({ arch: 'bert', seed: 22 }),
    ensureModel({ arch: 'gpt2', size: 'distilgpt2' }),
  ];

  // A subscriber to the new model's resource hears it load.
  const updated: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
    updated.push(n.params.uri);
  });
  await client.subscribeResource({ uri: 'hf://models' });

  // Drop a manifest in.
  expect(await enumOf('embed')).not.toContain('hot-embed');
  const hot = join(skills, 'hot.json');
  expect(await change(() => writeFileSync(hot, manifest('hot-embed', 'feature-extraction', bertA)))).toBeLessThan(2000);
  expect(await enumOf('embed')).toContain('hot-embed');
  const first = await embed('hot-embed');
  // Skill added, then loading and loaded: the registry resource changed each time.
  await vi.waitFor(() => expect(updated.filter((u) => u === 'hf://models').length).toBeGreaterThanOrEqual(3), { timeout: 5000 });

  // Edit it: another model folder behind the same name.
  await change(() => writeFileSync(hot, manifest('hot-embed', 'feature-extraction', bertB)));
  const second = await embed('hot-embed');
  expect(second).toHaveLength(first.length);
  expect(second).not.toEqual(first);

  // A broken file, and a broken edit of the good one: nothing else changes.
  const before = changes;
  writeFileSync(join(skills, 'broken.json'), '{ this is not json');
  writeFileSync(hot, '{ "name": "hot-embed"');
  await new Promise((r) => setTimeout(r, 800)); // past the watcher's debounce
  expect(changes).toBe(before);
  expect(await enumOf('embed')).toContain('hot-embed');
  expect(await embed('hot-embed')).toEqual(second);
  const models = JSON.parse(((await client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text);
  const invalid = models.invalid as Array<{ file: string; reason: string }>;
  expect(invalid.find((i) => i.file.endsWith('broken.json'))?.reason).toMatch(/invalid JSON/);
  expect(invalid.find((i) => i.file.endsWith('hot.json'))?.reason).toMatch(/last valid version stays in use/);

  // Delete a manifest while a generation runs on its model.
  const gen = join(skills, 'gen.json');
  await change(() => writeFileSync(gen, manifest('hot-gen', 'text-generation', gpt2, 'gpt2')));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const inFlight = client.callTool(
    { name: 'generate', arguments: { model: 'hot-gen', prompt: 'Hello there', max_new_tokens: 120 } },
    undefined,
    {
      onprogress: () => started(),
      timeout: 120_000,
    },
  ) as Promise<CallToolResult>;
  let finished = false;
  void inFlight.finally(() => (finished = true));
  await running; // tokens are coming
  await change(() => rmSync(gen));
  expect(finished).toBe(false); // the removal took effect while the generation was still running
  expect(await enumOf('generate')).not.toContain('hot-gen');
  const refused = (await client.callTool({ name: 'generate', arguments: { model: 'hot-gen', prompt: 'Hi' } })) as CallToolResult;
  expect(errorOf(refused).code).toBe('unknown_model');
  const done = await inFlight;
  expect(done.isError).toBeFalsy();
  expect((done.structuredContent as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(0);
}

describe('hot reload of skills (built CLI)', () => {
  it('over stdio, and register_model adds a model the same way', async () => {
    const { skills, args, env } = layout();
    const root = mkdtempSync(join(tmpdir(), 'hfms-hot-root-'));
    cpSync(ensureModel({ arch: 'bert-classifier' }), join(root, 'sentiment'), { recursive: true });
    const client = new Client({ name: 'hot-stdio', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['dist/cli.js', ...args, '--allow-register-dir', root],
        env,
        stderr: 'pipe',
      }),
    );
    cleanups.push(() => client.close());
    await scenario(client, skills);
    const r = (await client.callTool({ name: 'register_model', arguments: { source: join(root, 'sentiment') } })) as CallToolResult;
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ model: 'sentiment', tasks: ['text-classification'] });
    const c = (await client.callTool({ name: 'classify', arguments: { model: 'sentiment', text: 'good' } })) as CallToolResult;
    expect(c.isError).toBeFalsy();
  }, 180_000);

  it('over streamable HTTP', async () => {
    const { skills, args, env } = layout();
    const server: SpawnedServer = await spawnServer(['--transport', 'http', '--port', '0', '--log-level', 'info', ...args], env);
    cleanups.push(() => void server.child.kill('SIGTERM'));
    const client = new Client({ name: 'hot-http', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    cleanups.push(() => client.close());
    await scenario(client, skills);
    // The token-free log never shows a manifest's contents beyond names and reasons.
    expect(server.stderr()).toMatch(/skills changed/);
  }, 180_000);
});
