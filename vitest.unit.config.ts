/**
 * The fast lane (`npm run test:unit`): the tests that need no build of dist/ and no generated
 * models, picked by what they use, so a new test joins the lane when it qualifies. The full suite
 * (`npm test`) still runs everything.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/** What puts a test in the slow lane: the built CLI, generated models, or a packed install. */
const SLOW =
  /dist\/|childEnv|spawnServer|ensureModel\(|fixture\(|makeModelsDir|startHttpApp|startServer\(|makeCorruptModel|testSkills\(|npm pack|'pack'/;

const all = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? all(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );

export default defineConfig({
  test: {
    include: all('test').filter((f) => !SLOW.test(readFileSync(f, 'utf8'))),
    pool: 'forks',
    testTimeout: 60_000,
  },
});
