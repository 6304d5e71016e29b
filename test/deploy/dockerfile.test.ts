/**
 * The Dockerfile, checked without a Docker engine (none runs here): both image targets run as a
 * non-root user with a health check on /health, their default command parses with the server's
 * own config parser, every file the build copies exists, dev dependencies are pruned, and the
 * CUDA target installs onnxruntime-node's CUDA provider at build time.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../../src/config/config.js';

const text = readFileSync('Dockerfile', 'utf8').replace(/\\\n\s*/g, ' ');
const stages = text
  .split(/^FROM /m)
  .slice(1)
  .map((s) => ({ from: s.split('\n')[0]!, body: s }));
const stage = (name: string) => stages.find((s) => new RegExp(`AS ${name}$`).test(s.from.trim()))!;

describe('Dockerfile', () => {
  it('both runtime targets: non-root, health check on /health, a default command our parser accepts', () => {
    const keys = join(mkdtempSync(join(tmpdir(), 'hfms-docker-')), 'keys');
    writeFileSync(keys, 'k1\n');
    for (const name of ['cpu', 'cuda']) {
      const s = stage(name);
      expect(s, name).toBeDefined();
      expect(s.body).toMatch(/^USER 10001:10001$/m);
      // /models exists, owned by the runtime user, before the volume is declared.
      expect(s.body).toMatch(/RUN mkdir -p \/models && chown 10001:10001 \/models\nUSER 10001:10001\nVOLUME \["\/models"\]/);
      expect(s.body).toMatch(/HEALTHCHECK .*fetch\('http:\/\/127\.0\.0\.1:8080\/health'\)/);
      expect(s.body).toMatch(/ENTRYPOINT \["node", "\/app\/dist\/cli\.js"\]/);
      const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(s.body)![1]!) as string[];
      const { config } = parseCli(
        cmd.map((a) => (a === '/run/secrets/hf-model-server-keys' ? keys : a)),
        {},
      );
      expect(config).toMatchObject({ transport: 'http', host: '0.0.0.0', port: 8080, stateless: true, cacheDir: '/models' });
      expect(config.device).toBe(name === 'cuda' ? 'cuda' : 'auto');
    }
    expect(stages.at(-1)!.from.trim()).toBe('cpu'); // the default target
    // The documented run is read-only with a tmpfs for scratch.
    expect(readFileSync('docs/deploy.md', 'utf8')).toMatch(/docker run --read-only --tmpfs \/tmp /);
  });

  it('copies only files that exist, prunes dev dependencies, and installs the CUDA provider for the cuda target', () => {
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(src), src).toBe(true);
    expect(stage('build').body).toMatch(/npm prune --omit=dev/);
    expect(stage('build').body).toMatch(/ENV ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(stage('cuda-providers').body).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node \.\/script\/install/);
    expect(stage('cuda').body).toMatch(/COPY --from=cuda-providers \/src\/node_modules/);
    const ignore = readFileSync('.dockerignore', 'utf8').split('\n');
    for (const p of ['node_modules', '.cache', '.git', 'dist']) expect(ignore).toContain(p);
  });
});
