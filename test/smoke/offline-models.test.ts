/**
 * The offline recipe as a user runs it: `npm run offline-models -- DIR` writes stand-ins for the
 * default embedding and chat models under their Hub ids, and the built CLI serves them --offline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('offline models recipe', () => {
  it('makes working embed and chat models that the server runs offline, and says their weights are random', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hfms-offline-')), 'models');
    const made = spawnSync(process.execPath, ['--import', 'tsx', 'tools/offline-models.ts', dir], { encoding: 'utf8', timeout: 120_000 });
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/RANDOM weights/);
    const env = { ...process.env, HF_MODEL_SERVER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'hfms-cache-')) };
    const call = (tool: string, args: unknown) =>
      spawnSync(process.execPath, ['dist/cli.js', '--offline', '--models-dir', dir, 'call', tool, JSON.stringify(args)], {
        encoding: 'utf8',
        env,
        timeout: 120_000,
      });
    const embed = call('embed', { texts: ['hello'] });
    expect(embed.status, embed.stderr).toBe(0);
    expect(JSON.parse(embed.stdout)).toMatchObject({ model: 'all-minilm-l6-v2', dims: 384 });
    const chat = call('generate', { messages: [{ role: 'user', content: 'Hi' }], max_new_tokens: 4 });
    expect(chat.status, chat.stderr).toBe(0);
    expect(JSON.parse(chat.stdout)).toMatchObject({ model: 'qwen2.5-0.5b-instruct', text: expect.any(String) });
  });
});
