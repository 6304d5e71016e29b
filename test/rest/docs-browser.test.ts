/**
 * `/docs` in a real browser: headless Chromium (Debian's package, driven by playwright-core)
 * loads the page from the running server, expands POST /v1/embeddings, runs "try it out", and
 * gets vectors back. Every request the page makes is checked to stay on loopback (the page must
 * work on an offline host), and a screenshot is written to .cache/screenshots/docs.png for a
 * person to look at. Skipped, with a note, only where Chromium is not installed (.ci/run
 * installs it).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { closeHttpApps, startHttpApp } from '../helpers/http.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const have = existsSync(CHROMIUM);
if (!have) process.stderr.write(`docs-browser: ${CHROMIUM} not found, skipping the /docs browser check (apt-get install chromium)\n`);

afterAll(closeHttpApps);

describe.skipIf(!have)('/docs in headless Chromium', () => {
  it('renders the API and a try-it call to /v1/embeddings returns vectors, all on loopback', async () => {
    const { base } = await startHttpApp({}, { skills: false });

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 2000 } });
      const outside: string[] = [];
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.protocol === 'data:') return route.continue();
        outside.push(url.href);
        return route.abort();
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/docs`);
      const op = page.locator('#operations-OpenAI-post_v1_embeddings');
      await op.locator('.opblock-summary').click();
      const tryOut = op.locator('button.try-out__btn');
      if ((await tryOut.count()) > 0 && /try it out/i.test(await tryOut.innerText())) await tryOut.click();
      await op
        .locator('textarea.body-param__text')
        .fill(JSON.stringify({ input: ['hello world', 'good night'], model: 'all-minilm-l6-v2', encoding_format: 'float' }));
      const answered = page.waitForResponse((r) => r.url().endsWith('/v1/embeddings') && r.request().method() === 'POST');
      await op.locator('button.execute').click();
      const response = await answered;
      expect(response.status()).toBe(200);
      const body = (await response.json()) as { data: Array<{ embedding: number[] }> };
      expect(body.data).toHaveLength(2);
      expect(body.data[0]!.embedding).toHaveLength(384);
      // What the page shows is the same answer.
      await expect
        .poll(async () => op.locator('.live-responses-table tbody .response-col_status').first().innerText(), { timeout: 10_000 })
        .toContain('200');
      const dir = join('.cache', 'screenshots');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'docs.png'), fullPage: false });
      expect(outside).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

// A temp dir keeps Chromium's profile out of the home folder when HOME is read-only.
process.env.HOME ??= mkdtempSync(join(tmpdir(), 'hfms-chrome-'));
