/**
 * Builds the shared generated-model fixtures once per run into the git-ignored cache, before any
 * worker starts, so test files only read them.
 */
import { ensureModel } from '../tools/modelgen/cache.js';
import { FIXTURES } from './helpers/fixtures.js';

export default function setup(): void {
  for (const spec of Object.values(FIXTURES)) ensureModel(spec);
}
