/**
 * The package as users install it: `npm pack`, then `npm install <tarball>` into an empty folder
 * with a clean environment (only ONNXRUNTIME_NODE_INSTALL=skip, which the README and mcp.json
 * document: onnxruntime-node's install script otherwise downloads CUDA libraries on Linux x64),
 * then `npx hf-model-server call ocr` from there on the shipped page, with no network beyond the
 * npm registry (its cache, usually).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRUTH } from '../helpers/media.js';

const clean = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH!, HOME: process.env.HOME!, ...extra });

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('packed tarball', () => {
  it('installs into an empty folder and runs call ocr', () => {
    const out = mkdtempSync(join(tmpdir(), 'hfms-pack-'));
    const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { env: clean(), encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    const app = mkdtempSync(join(tmpdir(), 'hfms-app-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    copyFileSync('examples/ocr-page.png', join(app, 'page.png'));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(out, name)], {
      cwd: app,
      env: clean({ ONNXRUNTIME_NODE_INSTALL: 'skip' }),
      stdio: 'pipe',
    });
    const pkg = join(app, 'node_modules', 'hf-model-server');
    expect(existsSync(join(pkg, 'LICENSE'))).toBe(true);
    expect(files(join(pkg, 'dist')).filter((f) => f.endsWith('.map'))).toEqual([]);
    // The /docs page's files ship inside dist (swagger-ui-dist is a build-time dependency only), with their license.
    for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'])
      expect(existsSync(join(pkg, 'dist', 'swagger-ui', f)), f).toBe(true);
    const r = execFileSync('npx', ['hf-model-server', 'call', 'ocr', '{"image":"page.png"}'], { cwd: app, env: clean(), encoding: 'utf8' });
    const lines = (JSON.parse(r) as { lines: Array<{ text: string }> }).lines;
    expect(lines).toHaveLength(TRUTH['ocr-page.png'].length);
  }, 300_000);
});
