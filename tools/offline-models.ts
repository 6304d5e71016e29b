/**
 * @module offline-models
 * Writes working stand-ins for the default embedding and chat models into a models folder, under
 * the built-in skills' Hub ids, so the server runs `--offline` on a host that cannot reach the
 * Hub: `npm run offline-models -- DIR`, then `node dist/cli.js --offline --models-dir DIR`.
 * They are the project's generated models: real ONNX graphs in the Hub's layout with the real
 * architectures' shapes and tokenizers, but RANDOM weights, so their vectors and text mean
 * nothing. They prove the plumbing (clients, deployment, limits), not the answers.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeModel } from './modelgen/index.js';

/** Hub id -> what stands in for it. */
const STAND_INS = {
  'Xenova/all-MiniLM-L6-v2': { arch: 'bert', size: 'minilm-l6', task: 'embed (all-minilm-l6-v2)' },
  'onnx-community/Qwen2.5-0.5B-Instruct': { arch: 'qwen2', size: 'tiny', task: 'generate and chat (qwen2.5-0.5b-instruct)' },
} as const;

const dir = resolve(process.argv[2] ?? 'models');
for (const [id, spec] of Object.entries(STAND_INS)) {
  const out = join(dir, id);
  if (existsSync(join(out, 'config.json'))) {
    process.stderr.write(`${id}: already in ${out}, kept\n`);
    continue;
  }
  makeModel({ arch: spec.arch, size: spec.size, out });
  process.stderr.write(`${id}: written to ${out} (${spec.task})\n`);
}
process.stderr.write(
  `\nThese models have RANDOM weights: real graphs, shapes and tokenizers, meaningless outputs.\n` +
    `Run the server with them:  node dist/cli.js --offline --models-dir ${dir}\n`,
);
