/**
 * register_model through a real SDK client: off unless a flag enables it; a folder under an
 * allowed root (or, with --allow-register-hub, a Hub id served by a loopback hub) becomes a
 * skill at once: saved to the skills folder, tools/list_changed sent, the model in the tool's
 * enum and answering. Folders outside the roots, symlinks out of them and Hub ids without the
 * flag are refused with path_not_allowed; an architecture it cannot place is invalid_input.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { makeConfig } from '../../src/config/config.js';
import { fixture } from '../helpers/fixtures.js';
import { startHub, type LoopbackHub } from '../helpers/hub.js';
import { errorOf, startServer } from '../helpers/server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});
let hub: LoopbackHub;
beforeAll(async () => {
  hub = await startHub({ 'someone/hub-bert': fixture('bert') });
});
afterAll(() => hub.close());

async function start(overrides: Parameters<typeof makeConfig>[0]) {
  const skills = mkdtempSync(join(tmpdir(), 'hfms-reg-skills-'));
  // Another folder's skill, whose name register_model must not take.
  const other = mkdtempSync(join(tmpdir(), 'hfms-reg-other-'));
  writeFileSync(
    join(other, 'x.json'),
    JSON.stringify({
      name: 'builtin-like',
      family: 'bert',
      architecture: 'encoder-only',
      tasks: ['feature-extraction'],
      description: 'x',
      model: { id: fixture('bert') },
    }),
  );
  const { client, close } = await startServer(
    { skillsDirs: [skills, other], noWatch: true, cacheDir: mkdtempSync(join(tmpdir(), 'hfms-reg-cache-')), ...overrides },
    { builtin: false, downloads: true },
  );
  closers.push(close);
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    changes++;
  });
  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { skills, client, call, changes: () => changes };
}

describe('register_model', () => {
  it('is not offered unless a flag enables it', async () => {
    const s = await start({});
    expect((await s.client.listTools()).tools.map((t) => t.name)).not.toContain('register_model');
  });

  it('registers a folder under an allowed root: saved, announced, and answering', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hfms-reg-root-'));
    cpSync(fixture('bert'), join(root, 'my-bert'), { recursive: true });
    const s = await start({ allowRegisterDirs: [root] });
    const r = await s.call('register_model', { source: join(root, 'my-bert') });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ model: 'my-bert', tasks: ['feature-extraction'] });
    const file = (r.structuredContent as { file: string }).file;
    expect(file.startsWith(s.skills)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).name).toBe('my-bert');
    await new Promise((res) => setTimeout(res, 50));
    expect(s.changes()).toBe(1);
    const embed = (await s.client.listTools()).tools.find((t) => t.name === 'embed')!;
    expect((embed.inputSchema.properties!.model as { enum: string[] }).enum).toContain('my-bert');
    const e = await s.call('embed', { model: 'my-bert', texts: ['hi'] });
    expect(e.isError).toBeFalsy();
    // Registering the same name again is refused, not overwritten; so is a name another folder's skill has.
    expect(errorOf(await s.call('register_model', { source: join(root, 'my-bert') })).code).toBe('invalid_input');
    const taken = errorOf(await s.call('register_model', { source: join(root, 'my-bert'), name: 'builtin-like' }));
    expect(taken.code).toBe('invalid_input');
    expect(taken.message).toMatch(/"builtin-like" is already registered/);
  });

  it('refuses folders outside the roots, symlinks out of them, unknown architectures, and Hub ids without the flag', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hfms-reg-root-'));
    const outside = mkdtempSync(join(tmpdir(), 'hfms-reg-out-'));
    cpSync(fixture('bert'), join(outside, 'm'), { recursive: true });
    symlinkSync(join(outside, 'm'), join(root, 'link'));
    mkdirSync(join(root, 'odd', 'onnx'), { recursive: true });
    writeFileSync(join(root, 'odd', 'config.json'), JSON.stringify({ architectures: ['FancyNewThing'], model_type: 'fancy' }));
    writeFileSync(join(root, 'odd', 'onnx', 'model.onnx'), 'x');
    const s = await start({ allowRegisterDirs: [root] });
    for (const source of [join(outside, 'm'), join(root, 'link'), join(root, '..', 'elsewhere'), 'someone/hub-bert']) {
      const r = await s.call('register_model', { source });
      expect(errorOf(r).code, source).toBe('path_not_allowed');
    }
    // A FIFO where config.json should be is refused, not read (the read would never return).
    mkdirSync(join(root, 'fifo', 'onnx'), { recursive: true });
    execFileSync('mkfifo', [join(root, 'fifo', 'config.json')]);
    const fifo = errorOf(await s.call('register_model', { source: join(root, 'fifo') }));
    expect(fifo).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/config\.json: not a regular file/) });
    const odd = errorOf(await s.call('register_model', { source: join(root, 'odd') }));
    expect(odd.code).toBe('invalid_input');
    expect(odd.message).toMatch(/cannot tell which task FancyNewThing.*--task/);
    expect(existsSync(join(s.skills, 'odd.json'))).toBe(false);
  });

  it('registers a Hub id with --allow-register-hub when online, and the model downloads on first use', async () => {
    const s = await start({ allowRegisterHub: true, offline: false, hubEndpoint: hub.endpoint });
    const r = await s.call('register_model', { source: 'someone/hub-bert', name: 'from-hub' });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ model: 'from-hub', source: 'someone/hub-bert', tasks: ['feature-extraction'] });
    const e = await s.call('embed', { model: 'from-hub', texts: ['hi'] });
    expect(e.isError, JSON.stringify(e.content)).toBeFalsy();
    expect(hub.requests.some((q) => q.path === '/someone/hub-bert/resolve/main/onnx/model.onnx')).toBe(true);
  });
});
