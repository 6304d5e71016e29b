/**
 * @module docs-config
 * Rewrites docs/reference.md's option list from the option table (`npm run docs:config`): the same
 * text `hf-model-server --help` prints. A test fails when that copy differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { optionLines } from '../src/config/config.js';

const path = new URL('../docs/reference.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = readme.indexOf('<!-- options:start -->');
const end = readme.indexOf('<!-- options:end -->');
if (start < 0 || end < 0) throw new Error('docs/reference.md has no options markers');
const block = `<!-- options:start -->\n\`\`\`text\n${optionLines()}\n\`\`\`\n`;
writeFileSync(path, readme.slice(0, start) + block + readme.slice(end));
