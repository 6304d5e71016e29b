/**
 * The Claude Desktop bundle as a user gets it: `npm run bundle`'s .mcpb validates, carries only
 * this platform's native code and no browser builds, and, unpacked and started the way Claude
 * Desktop starts it (working directory `/`, the manifest's command and arguments with the user's
 * settings substituted by the mcpb library's own code), serves `ocr` on a page in the user's
 * folder outside the bundle.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getMcpConfigForManifest } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { buildBundle } from '../../tools/bundle.js';

const TRUTH = JSON.parse(readFileSync('test/fixtures/media/truth.json', 'utf8')) as Record<string, unknown[]>;

describe('MCP bundle for Claude Desktop', () => {
  it('validates, is pruned to this platform, and serves ocr started as Claude Desktop starts it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hfms-bundle-'));
    const { file } = buildBundle(out);
    execFileSync('node_modules/.bin/mcpb', ['validate', join(out, 'stage', 'manifest.json')]);
    const dir = join(out, 'unpacked');
    execFileSync('node_modules/.bin/mcpb', ['unpack', file, dir]);
    const modules = join(dir, 'node_modules');
    expect(existsSync(join(modules, 'onnxruntime-web'))).toBe(false);
    const napi = join(modules, 'onnxruntime-node', 'bin', 'napi-v6');
    expect(readdirSync(napi)).toEqual([process.platform]);
    expect(readdirSync(join(napi, process.platform))).toEqual([process.arch]);
    expect(existsSync(join(modules, 'vitest'))).toBe(false);

    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const user = mkdtempSync(join(tmpdir(), 'hfms-user-docs-'));
    copyFileSync('examples/ocr-page.png', join(user, 'scan.png'));
    const config = (await getMcpConfigForManifest({
      manifest,
      extensionPath: dir,
      systemDirs: {},
      userConfig: { allowed_directories: [user] },
      pathSeparator: '/',
    })) as { command: string; args: string[]; env: Record<string, string> };
    expect(config.args).toEqual([`${dir}/dist/cli.js`, 'serve', user]);
    const client = new Client({ name: 'claude-desktop-like', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: config.command === 'node' ? process.execPath : config.command,
        args: config.args,
        env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'hfms-home-')), ...config.env },
        cwd: '/',
        stderr: 'pipe',
      }),
    );
    const r = await client.callTool({ name: 'ocr', arguments: { image: join(user, 'scan.png') } });
    expect(r.isError).toBeFalsy();
    expect((r.structuredContent as { lines: unknown[] }).lines).toHaveLength(TRUTH['ocr-page.png']!.length);
    // Files outside the chosen folder stay out of reach, bundle included.
    const outside = await client.callTool({ name: 'ocr', arguments: { image: join(dir, 'README.md') } });
    expect(outside.isError).toBe(true);
    await client.close();
  });
});
