/**
 * @module docs-errors
 * Rewrites docs/reference.md's error table from the error catalog (`npm run docs:errors`).
 * A test fails when a catalogued code is missing from docs/reference.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CATALOG } from '../src/errors.js';

const path = new URL('../docs/reference.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const header = '| code | retryable | HTTP | meaning | what to do |\n|---|---|---|---|---|\n';
const start = readme.indexOf(header);
if (start < 0) throw new Error('docs/reference.md has no error table header');
const end = readme.indexOf('\n\n', start + header.length);
const rows = Object.entries(ERROR_CATALOG)
  .map(([code, s]) => `| \`${code}\` | ${s.retryable ? 'yes' : 'no'} | ${s.http} | ${s.meaning} | ${s.action} |`)
  .join('\n');
writeFileSync(path, readme.slice(0, start) + header + rows + readme.slice(end));
