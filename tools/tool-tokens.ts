/**
 * @module tool-tokens
 * Measures what the tool list costs an agent's context: the JSON of `tools/list` (built-in
 * skills, default `--tools`), tokenised with the real GPT-4o (o200k) tokenizer. Run: `npm run tool-tokens`.
 */
import { TOOL_NAMES } from '../src/config/config.js';
import { listedTools, o200k } from './tool-list.js';

const count = await o200k();
const all = await listedTools(TOOL_NAMES);
process.stdout.write('| tool | tokens (o200k) |\n|---|---|\n');
for (const t of all) process.stdout.write(`| \`${t.name}\` | ${count(t)} |\n`);
process.stdout.write(`| **all ${all.length} tools** | **${count({ tools: all })}** |\n`);
process.stdout.write(`| \`--tools embed,similarity\` | ${count({ tools: await listedTools(['embed', 'similarity']) })} |\n`);
process.stdout.write(`| all, \`--output-schemas\` | ${count({ tools: await listedTools(TOOL_NAMES, { outputSchemas: true }) })} |\n`);
process.exit(0);
