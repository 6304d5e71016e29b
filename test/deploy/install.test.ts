/**
 * A clone installs offline on npm 10 and npm 11: onnxruntime-node's download of CUDA libraries is
 * skipped by both (checked by hand on each version from a fresh clone; this keeps the two
 * settings that make it so from going missing).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('offline install settings', () => {
  it('npm 11 denies the install script; npm 10 is told to skip it', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    const npmrc = readFileSync('.npmrc', 'utf8').split('\n');
    expect(npmrc).toContain('onnxruntime-node-install=skip');
  });
});
