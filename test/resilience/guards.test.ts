/**
 * An unhandled rejection is logged with context and the process keeps running (real child).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

describe('rejection guard', () => {
  it('logs an unhandled rejection and keeps the process alive', () => {
    const script = `
      import { pino } from 'pino';
      import { installRejectionGuard } from './src/process/guards.ts';
      installRejectionGuard(pino({ level: 'error' }, pino.destination({ fd: 1, sync: true })));
      Promise.reject(new Error('forgotten failure in some code path'));
      setTimeout(() => process.stdout.write('STILL_ALIVE\\n'), 50);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: process.cwd(),
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/"event":"unhandled_rejection"/);
    expect(r.stdout).toMatch(/forgotten failure in some code path/);
    expect(r.stdout).toMatch(/STILL_ALIVE/);
  });
});
