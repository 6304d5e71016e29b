/**
 * The task store's bounds, with a clock of our own: finished tasks go after their time to live,
 * a client's oldest finished task makes room for a new one, and when all of a client's tasks are
 * running a new one is refused as retryable while other clients are unaffected.
 */
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { ToolTasks } from '../../src/mcp/tasks.js';
import { ServerError } from '../../src/errors.js';

/** A run that finishes when told to. */
function held() {
  let finish!: (r: CallToolResult) => void;
  const done = new Promise<CallToolResult>((r) => (finish = r));
  return { run: () => done, finish: () => finish({ content: [{ type: 'text', text: 'ok' }] }) };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('ToolTasks', () => {
  it('keeps finished tasks for their time to live, then forgets them', async () => {
    let now = 0;
    const tasks = new ToolTasks({ ttlMs: 1000, maxPerClient: 4, now: () => now });
    const h = held();
    const t = tasks.start('a', h.run);
    h.finish();
    await settle();
    expect(tasks.get('a', t.taskId as string).status).toBe('completed');
    now = 999;
    expect(tasks.get('a', t.taskId as string).status).toBe('completed');
    now = 1001;
    expect(() => tasks.get('a', t.taskId as string)).toThrow(/unknown task/);
  });

  it("makes room from a client's oldest finished task, refuses when all run, and leaves other clients alone", async () => {
    let now = 0;
    const tasks = new ToolTasks({ ttlMs: 60_000, maxPerClient: 2, now: () => now });
    const first = held();
    const a1 = tasks.start('a', first.run);
    first.finish();
    await settle();
    now = 10;
    const a2 = tasks.start('a', held().run);
    const a3 = tasks.start('a', held().run); // a1 (finished) makes room
    expect(() => tasks.get('a', a1.taskId as string)).toThrow(/unknown task/);
    expect(tasks.get('a', a2.taskId as string).status).toBe('working');
    let refused: unknown;
    try {
      tasks.start('a', held().run);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(ServerError);
    expect((refused as ServerError).code).toBe('rate_limited');
    expect((refused as ServerError).retryable).toBe(true);
    expect(tasks.start('b', held().run).status).toBe('working');
    expect(tasks.size).toBe(3);
    void a3;
  });

  it('a throw fails the task with a JSON-RPC error; cancel aborts the run and wins over its late result', async () => {
    const tasks = new ToolTasks({ ttlMs: 60_000, maxPerClient: 4 });
    const boom = tasks.start('a', async () => {
      throw new Error('exploded');
    });
    await settle();
    expect(tasks.get('a', boom.taskId as string)).toMatchObject({ status: 'failed', error: { message: 'exploded' } });
    let signal!: AbortSignal;
    const h = held();
    const t = tasks.start('a', (s) => ((signal = s), h.run()));
    tasks.cancel('a', t.taskId as string);
    expect(signal.aborted).toBe(true);
    h.finish();
    await settle();
    expect(tasks.get('a', t.taskId as string).status).toBe('cancelled');
    expect(() => tasks.get('b', t.taskId as string)).toThrow(/unknown task/);
  });
});
