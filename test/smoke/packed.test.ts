/**
 * The package as users install it: `npm pack`, then `npm install <tarball>` into an empty folder
 * with a clean environment (only ONNXRUNTIME_NODE_INSTALL=skip, which the README and mcp.json
 * document: onnxruntime-node's install script otherwise downloads CUDA libraries on Linux x64),
 * then `npx hf-model-server call ocr` from there on the shipped page, with no network beyond the
 * npm registry (its cache, usually); and the library API from the installed package: an
 * application imports it under plain Node, reads the page in-process, and its TypeScript checks
 * against the shipped declarations under --strict.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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
    // npm test built dist/ first; without --ignore-scripts, pack's prepare would rebuild it while
    // other test files start the CLI from it (a half-written module fails their children).
    const name = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', out], {
      env: clean(),
      encoding: 'utf8',
    })
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

    writeFileSync(
      join(app, 'use.mjs'),
      `import { createEngine, createHttpApp, createMcpServer } from 'hf-model-server';
      const engine = await createEngine({ offline: true });
      const page = await engine.run('ocr', { image: 'page.png' });
      const mcp = createMcpServer(engine);
      const edge = createHttpApp(engine);
      await mcp.close();
      await edge.close(0);
      await engine.close();
      process.stdout.write(JSON.stringify({ lines: page.lines.length, mounts: typeof edge.handle }));`,
    );
    const use = spawnSync(process.execPath, ['use.mjs'], { cwd: app, env: clean(), encoding: 'utf8', timeout: 120_000 });
    expect(use.status, use.stderr.slice(-800)).toBe(0);
    expect(JSON.parse(use.stdout)).toEqual({ lines: TRUTH['ocr-page.png'].length, mounts: 'function' });
    writeFileSync(
      join(app, 'use.ts'),
      `import { createEngine, createHttpApp, createMcpServer, ServerError, type Engine, type HttpApp } from 'hf-model-server';
const engine: Engine = await createEngine({ offline: true });
const edge: HttpApp = createHttpApp(engine);
const { server } = createMcpServer(engine);
try { await engine.run('ocr', {}); } catch (x) { if (x instanceof ServerError) { const c: string = x.code; void c; } }
export { edge, server };
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'nodenext', target: 'es2022', skipLibCheck: true, types: [] },
        files: ['use.ts'],
      }),
    );
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    const tsc = spawnSync(process.execPath, [join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  }, 300_000);
});
