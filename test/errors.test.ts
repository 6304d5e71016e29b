/**
 * The error catalog is the single source of codes: every code thrown in src/ is catalogued, and
 * docs/reference.md documents every catalogued code, and documents no code that does not exist.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG, ServerError, fromErrorData, toErrorData } from '../src/errors.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalog', () => {
  it('every ServerError code used in src/ is in the catalog', () => {
    const used = new Set<string>();
    for (const f of files('src')) for (const m of readFileSync(f, 'utf8').matchAll(/new ServerError\(\s*'([a-z_]+)'/g)) used.add(m[1]!);
    expect(used.size).toBeGreaterThan(5);
    for (const code of used) expect(Object.keys(ERROR_CATALOG), code).toContain(code);
  });

  it('the reference documents every code with its retryability and HTTP status', () => {
    const readme = readFileSync('docs/reference.md', 'utf8');
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(row, `reference row for ${code}`).toBeDefined();
      expect(row).toContain(`| ${spec.retryable ? 'yes' : 'no'} | ${spec.http} |`);
    }
  });

  it('every code in the reference error table exists in the catalog', () => {
    const readme = readFileSync('docs/reference.md', 'utf8');
    const start = readme.indexOf('| code | retryable | HTTP | meaning | what to do |');
    const table = readme.slice(start, readme.indexOf('\n\n', start)).split('\n').slice(2);
    expect(table.length).toBe(Object.keys(ERROR_CATALOG).length);
    for (const row of table) expect(Object.keys(ERROR_CATALOG), row).toContain(/^\| `([a-z_]+)` \|/.exec(row)?.[1]);
  });

  it('a ServerError crosses a thread boundary (structured clone) with its code, retry hint and details', () => {
    const e = new ServerError('overloaded', 'queue full', { retryAfterMs: 1500, details: { queue: 'normal', depth: 1024 } });
    const back = fromErrorData(structuredClone(toErrorData(e)));
    expect(back).toBeInstanceOf(ServerError);
    expect(back).toMatchObject({
      code: 'overloaded',
      message: 'queue full',
      retryable: true,
      retryAfterMs: 1500,
      details: { queue: 'normal', depth: 1024 },
    });
    expect(toErrorData(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
  });

  it('nothing in src/ writes to stdout directly', () => {
    for (const f of files('src')) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/console\.(log|info|debug)\(/);
      if (!f.endsWith('cli.ts')) expect(text, f).not.toMatch(/process\.stdout\.write/);
    }
  });
});
