/**
 * @module bench
 * Benchmark entry: `npm run bench -- <name>`. Each benchmark prints a table and a final JSON
 * line. Figures are ratios or rates measured in one process on this machine; see README.
 */
import { benchEngine } from './engine.js';
import { benchModelgen } from './modelgen.js';
import { benchSoak } from './soak.js';
import { benchCache } from './cache.js';
import { benchOcr } from './ocr.js';
import { benchAbuse } from './abuse.js';
import { benchGpu } from './gpu.js';
import { benchRest } from './rest.js';
import { benchRouter } from './router.js';

const BENCHES: Record<string, () => Promise<Record<string, number>>> = {
  modelgen: benchModelgen,
  engine: benchEngine,
  soak: benchSoak,
  cache: benchCache,
  ocr: benchOcr,
  abuse: benchAbuse,
  gpu: benchGpu,
  rest: benchRest,
  router: benchRouter,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const run = names.length ? names : Object.keys(BENCHES);
  const all: Record<string, Record<string, number>> = {};
  for (const name of run) {
    const bench = BENCHES[name];
    if (!bench) {
      process.stderr.write(`bench: unknown benchmark "${name}"; valid: ${Object.keys(BENCHES).join(', ')}\n`);
      process.exit(2);
    }
    const r = await bench();
    all[name] = r;
    process.stdout.write(`\n## ${name}\n| metric | value |\n|---|---|\n`);
    for (const [k, v] of Object.entries(r)) process.stdout.write(`| ${k} | ${v.toFixed(2)} |\n`);
  }
  process.stdout.write(`${JSON.stringify(all)}\n`);
}

await main();
