/**
 * Skills that change while the server runs, in process through a real SDK client: a tool joins
 * the list with its first model and leaves with its last, a changed skill's loaded model is
 * replaced by the new one, the response cache does not answer for the old model, resource
 * subscriptions report each model state change, and a bad edit keeps the last valid manifest.
 * (The same over stdio and HTTP with the built CLI and the folder watcher: test/smoke/hot-reload.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { errorOf, startServer } from '../helpers/server.js';
import { closeHttpApps, startHttpApp } from '../helpers/http.js';

const manifest = (name: string, task: string, id: string) =>
  JSON.stringify({ name, family: 'bert', architecture: 'encoder-only', tasks: [task], description: `test ${name}`, model: { id } });

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await closeHttpApps();
});

async function start(files: Record<string, string>, cacheBytes = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'hfms-live-'));
  for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
  // No watcher here: reloadSkills() is called directly, so each step is deterministic.
  const { app, client, close } = await startServer({ skillsDirs: [dir], cacheBytes, noWatch: true }, { builtin: false });
  closers.push(close);
  let toolChanges = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    toolChanges++;
  });
  const updates: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
    updates.push(n.params.uri);
  });
  const tools = async () => Object.fromEntries((await client.listTools()).tools.map((t) => [t.name, t]));
  const embed = async (model: string) => {
    const r = await client.callTool({ name: 'embed', arguments: { model, texts: ['hello world'] } });
    if (r.isError) throw new Error(JSON.stringify(r.content));
    return (r.structuredContent as { embeddings: number[][] }).embeddings[0]!;
  };
  const settle = () => new Promise((r) => setTimeout(r, 50));
  return { dir, app, client, tools, embed, settle, updates, toolChanges: () => toolChanges };
}

describe('live skills', () => {
  it('a tool joins with its first model and leaves with its last; one change, one notification', async () => {
    const s = await start({ 'a.json': manifest('emb-a', 'feature-extraction', ensureModel({ arch: 'bert' })) });
    expect(Object.keys(await s.tools())).not.toContain('classify');
    writeFileSync(join(s.dir, 'c.json'), manifest('cls', 'text-classification', ensureModel({ arch: 'bert-classifier' })));
    writeFileSync(join(s.dir, 'b.json'), manifest('emb-b', 'feature-extraction', ensureModel({ arch: 'bert', seed: 5 })));
    expect(s.app.deps.reloadSkills!()).toMatchObject({ added: ['emb-b', 'cls'], removed: [], changed: [] });
    await s.settle();
    expect(s.toolChanges()).toBe(1);
    const tools = await s.tools();
    expect(tools.classify).toBeDefined();
    const modelEnum = (t: (typeof tools)[string]) => (t!.inputSchema.properties!.model as { enum: string[] }).enum;
    expect(modelEnum(tools.embed!)).toEqual(['emb-a', 'emb-b', 'auto']);
    const r = await s.client.callTool({ name: 'classify', arguments: { model: 'cls', text: 'good' } });
    expect(r.isError).toBeFalsy();

    rmSync(join(s.dir, 'c.json'));
    expect(s.app.deps.reloadSkills!().removed).toEqual(['cls']);
    await s.settle();
    expect(s.toolChanges()).toBe(2);
    expect(Object.keys(await s.tools())).not.toContain('classify');
    // A client that still calls the removed model gets the catalogued answer.
    const gone = await s.client.callTool({ name: 'embed', arguments: { model: 'cls', texts: ['x'] } });
    expect(errorOf(gone as never).code).toBe('unknown_model');
  });

  it('a changed skill replaces its loaded model, and cached answers of the old one are dropped', async () => {
    const s = await start({ 'a.json': manifest('emb', 'feature-extraction', ensureModel({ arch: 'bert', seed: 1 })) }, 1 << 20);
    const before = await s.embed('emb');
    expect(await s.embed('emb')).toEqual(before); // a cache hit, or the same model: equal either way
    expect(s.app.deps.loader.status('emb').status).toBe('loaded');
    writeFileSync(join(s.dir, 'a.json'), manifest('emb', 'feature-extraction', ensureModel({ arch: 'bert', seed: 2 })));
    expect(s.app.deps.reloadSkills!().changed).toEqual(['emb']);
    await s.settle();
    expect(s.app.deps.loader.status('emb').status).toBe('available'); // the old one went when idle
    const after = await s.embed('emb');
    expect(after).not.toEqual(before);
    expect(s.app.deps.loader.list().map((m) => m.source)).toEqual([ensureModel({ arch: 'bert', seed: 2 })]);
  });

  it('a bad edit keeps the last valid manifest and lists the file as invalid; fixing it clears that', async () => {
    const s = await start({ 'a.json': manifest('emb', 'feature-extraction', ensureModel({ arch: 'bert' })) });
    const v = await s.embed('emb');
    writeFileSync(join(s.dir, 'a.json'), '{ "name": "emb", ');
    writeFileSync(join(s.dir, 'junk.json'), '[1, 2]');
    const c = s.app.deps.reloadSkills!();
    expect(c).toMatchObject({ added: [], removed: [], changed: [], invalidChanged: true });
    await s.settle();
    expect(s.toolChanges()).toBe(0);
    const models = JSON.parse(((await s.client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text);
    expect(models.skills.map((x: { name: string }) => x.name)).toEqual(['emb']);
    const invalid = models.invalid as Array<{ file: string; reason: string }>;
    expect(invalid.map((i) => i.file.split('/').pop()).sort()).toEqual(['a.json', 'junk.json']);
    expect(invalid.find((i) => i.file.endsWith('a.json'))!.reason).toMatch(/invalid JSON.*last valid version stays in use/);
    expect(await s.embed('emb')).toEqual(v);
    writeFileSync(join(s.dir, 'a.json'), manifest('emb', 'feature-extraction', ensureModel({ arch: 'bert' })));
    rmSync(join(s.dir, 'junk.json'));
    expect(s.app.deps.reloadSkills!()).toMatchObject({ changed: [], invalidChanged: true });
    expect(s.app.deps.registry.invalid).toEqual([]);
  });

  it('resource subscriptions report loading, loaded, unloaded and skill changes for the subscribed URIs only', async () => {
    const s = await start({
      'a.json': manifest('emb', 'feature-extraction', ensureModel({ arch: 'bert' })),
      'b.json': manifest('other', 'feature-extraction', ensureModel({ arch: 'bert', seed: 3 })),
    });
    await s.client.subscribeResource({ uri: 'hf://models/emb' });
    await s.client.subscribeResource({ uri: 'hf://models' });
    await expect(s.client.subscribeResource({ uri: 'hf://models/nope' })).rejects.toThrow(/cannot subscribe/);
    await s.embed('emb');
    await s.embed('other');
    await s.settle();
    const counts = (uri: string) => s.updates.filter((u) => u === uri).length;
    // loading + loaded for emb; hf://models hears both models' loading + loaded.
    expect(counts('hf://models/emb')).toBe(2);
    expect(counts('hf://models/other')).toBe(0);
    expect(counts('hf://models')).toBe(4);
    await s.client.callTool({ name: 'unload_model', arguments: { model: 'emb' } }).catch(() => undefined);
    s.app.deps.loader.retire('emb');
    await s.settle();
    expect(counts('hf://models/emb')).toBe(3);
    await s.client.unsubscribeResource({ uri: 'hf://models/emb' });
    rmSync(join(s.dir, 'a.json'));
    s.app.deps.reloadSkills!();
    await s.settle();
    expect(counts('hf://models/emb')).toBe(3);
    expect(counts('hf://models')).toBe(6);
  });

  it('a REST task route comes to life when its tool gets its first model', async () => {
    const a = manifest('emb', 'feature-extraction', ensureModel({ arch: 'bert' }));
    const { app, base } = await startHttpApp({ noWatch: true }, { skills: { 'a.json': JSON.parse(a) }, builtin: false });
    const post = (body: unknown) =>
      fetch(`${base}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ model: 'cls', text: 'good' })).status).toBe(404);
    writeFileSync(
      join(app.deps.config.skillsDirs[0]!, 'c.json'),
      manifest('cls', 'text-classification', ensureModel({ arch: 'bert-classifier' })),
    );
    expect(app.deps.reloadSkills!().added).toEqual(['cls']);
    const r = await post({ model: 'cls', text: 'good' });
    expect(r.status, await r.clone().text()).toBe(200);
    expect(((await r.json()) as { results: Array<{ labels: unknown[] }> }).results[0]!.labels.length).toBeGreaterThan(0);
  });
});
