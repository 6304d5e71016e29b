/**
 * @module make-model
 * CLI over the model generator: `npm run make-model -- --arch <arch> --size <size> --out <dir>`
 * writes one Hugging Face style model folder. Bad arguments print one line and exit 2.
 */
import { parseArgs } from 'node:util';
import { ARCHS, ModelGenError, makeModel } from './modelgen/index.js';

const USAGE = `usage: make-model --arch <${Object.keys(ARCHS).join('|')}> [--size <preset>] --out <dir> [--seed N] [--set dim=value ...] [--chat]`;

function fail(msg: string): never {
  process.stderr.write(`make-model: ${msg.split('\n')[0]}\n`);
  process.exit(2);
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        arch: { type: 'string' },
        size: { type: 'string', default: 'tiny' },
        out: { type: 'string' },
        seed: { type: 'string', default: '1' },
        set: { type: 'string', multiple: true },
        hidden: { type: 'string' },
        heads: { type: 'string' },
        layers: { type: 'string' },
        chat: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    fail(`${(e as Error).message}; ${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(
      `${USAGE}\nsizes: ${Object.entries(ARCHS)
        .map(([a, s]) => `${a}=${Object.keys(s.sizes).join('/')}`)
        .join(' ')}\n`,
    );
    return;
  }
  if (!values.arch) fail(`--arch is required; ${USAGE}`);
  if (!values.out) fail(`--out is required; ${USAGE}`);
  const overrides: Record<string, number> = {};
  const num = (k: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) fail(`${k} must be a positive integer (got "${v}")`);
    return n;
  };
  for (const k of ['hidden', 'heads', 'layers'] as const) if (values[k] !== undefined) overrides[k] = num(k, values[k]);
  for (const kv of values.set ?? []) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) fail(`--set expects dim=value (got "${kv}")`);
    overrides[k] = num(k, v);
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) fail(`--seed must be an integer (got "${values.seed}")`);
  const t0 = performance.now();
  try {
    const made = makeModel({ arch: values.arch, size: values.size, out: values.out, seed, overrides, chat: values.chat });
    const total = Object.values(made.files).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `wrote ${made.arch}/${made.size} to ${made.dir}: ${Object.keys(made.files).length} files, ` +
        `${(total / 1e6).toFixed(2)} MB in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`,
    );
  } catch (e) {
    if (e instanceof ModelGenError) fail(e.message);
    throw e;
  }
}

main();
