/**
 * What a new user meets first: the Hub unreachable on the first call (its own retryable code,
 * a message that says what to do, and no open breaker), the default allowed folder for desktop
 * clients that start servers in /, and hidden files never read.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAllowDirs } from '../../src/config/config.js';
import { errorOf, startServer, type Harness } from '../helpers/server.js';
import { png } from '../helpers/media.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('the model hub unreachable', () => {
  let h: Harness;
  let hub: string;
  beforeAll(async () => {
    hub = `http://127.0.0.1:${await closedPort()}`;
    h = await startServer({ offline: false, hubEndpoint: hub });
  }, 120_000);
  afterAll(async () => h?.close());

  it('is hub_unreachable, retryable, names the host and the ways out, and never opens the breaker', async () => {
    for (let i = 0; i < 7; i++) {
      const e = errorOf(await h.call('embed', { texts: ['hello'], model: 'missing-embedder' }));
      expect(e.code).toBe('hub_unreachable');
      expect(e.retryable).toBe(true);
      expect(e.message).toContain(hub);
      for (const hint of ['--offline', '--models-dir', '--hub-endpoint']) expect(e.message).toContain(hint);
    }
    expect(h.app.deps.breakers.state('missing-embedder')).toBe('closed');
    // Models that are on disk still load and answer.
    expect((await h.call('embed', { texts: ['hello'] })).isError).toBeFalsy();
  });
});

describe('local paths', () => {
  it('default to the working directory, or the home folder when the server starts in /', () => {
    expect(defaultAllowDirs('/srv/app', '/home/u')).toEqual(['/srv/app']);
    expect(defaultAllowDirs('/', '/home/u')).toEqual(['/home/u']);
    expect(defaultAllowDirs('/', '/')).toEqual([]);
  });

  it('never read hidden files or folders, and say how to allow a folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hfms-home-'));
    mkdirSync(join(root, '.secret'));
    writeFileSync(join(root, '.secret', 'a.png'), await png(32, 32));
    writeFileSync(join(root, '.b.png'), await png(32, 32));
    writeFileSync(join(root, 'c.png'), await png(64, 48));
    const h = await startServer({ media: { allowDirs: [root] } });
    try {
      for (const image of [join(root, '.secret', 'a.png'), join(root, '.b.png')]) {
        const e = errorOf(await h.call('ocr', { image }));
        expect(e.code, image).toBe('path_not_allowed');
        expect(e.message).toMatch(/hidden/);
      }
      expect((await h.call('detect', { image: join(root, 'c.png'), mode: 'text' })).isError).toBeFalsy();
      expect(errorOf(await h.call('ocr', { image: '/etc/hostname' })).message).toMatch(/--allow-dir DIR or HF_MODEL_SERVER_ALLOW_DIR/);
    } finally {
      await h.close();
    }
    const none = await startServer({ media: { allowDirs: [] } });
    try {
      expect(errorOf(await none.call('ocr', { image: join(root, 'c.png') })).message).toMatch(
        /--allow-dir DIR \(or HF_MODEL_SERVER_ALLOW_DIR/,
      );
    } finally {
      await none.close();
    }
  });
});
