/**
 * The session store's eviction rule, on an injected clock: only sessions with nothing in flight,
 * no open event stream and no use in the last minutes make room for new ones.
 */
import { describe, expect, it } from 'vitest';
import { RECENT_MS, SessionStore, type SessionEntry } from '../../src/transports/http/sessions.js';

function store(max: number, perClient: number) {
  let now = 1_000_000;
  const closed: string[] = [];
  const s = new SessionStore<SessionEntry & { id: string }>({ max, perClient, idleMs: 60 * 60_000, now: () => now });
  const add = (id: string, client: string, o: Partial<SessionEntry> = {}) =>
    s.add(id, { id, client, lastSeen: now, active: 0, streams: 0, close: async () => void closed.push(id), ...o });
  return { s, add, closed, tick: (ms: number) => (now += ms) };
}

describe('SessionStore', () => {
  it('never evicts a session used lately, one with a request in flight, or one holding an event stream', async () => {
    const { s, add, closed, tick } = store(10, 3);
    add('recent', 'a');
    add('busy', 'a', { active: 1 });
    add('streaming', 'a', { streams: 1 });
    await expect(s.admit('a')).rejects.toMatchObject({ code: 'rate_limited' });
    tick(RECENT_MS + 1);
    // Now "recent" is idle, but the busy and streaming ones are still live.
    expect(await s.admit('a')).toEqual(['recent']);
    expect(closed).toEqual(['recent']);
    add('new', 'a');
    tick(RECENT_MS + 1);
    await expect(s.admit('a')).resolves.toEqual(['new']);
  });

  it('a full store evicts another client only when that session is idle; otherwise refuses', async () => {
    const { s, add, tick } = store(2, 5);
    add('x', 'a');
    add('y', 'b', { streams: 1 });
    await expect(s.admit('c')).rejects.toMatchObject({ code: 'overloaded' });
    tick(RECENT_MS + 1);
    expect(await s.admit('c')).toEqual(['x']);
  });

  it('the idle sweep spares sessions that hold an event stream', async () => {
    const { s, add, tick } = store(10, 10);
    add('quiet', 'a');
    add('listening', 'a', { streams: 1 });
    tick(61 * 60_000);
    expect(await s.sweep()).toEqual(['quiet']);
    expect(s.size).toBe(1);
  });
});
