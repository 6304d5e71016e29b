/**
 * @module transports/http/sessions
 * Stateful MCP sessions over HTTP. The store is bounded in two ways: at most --max-sessions in
 * all and --max-sessions-per-client for one client (its key or token subject; without keys, the
 * local process behind a loopback connection, else its address). When a new session would pass
 * a bound, the least recently used idle session of that client, or else of anyone when the store
 * is full, is closed to make room. A session is idle only when no request is in flight on it, it
 * holds no open event stream, and it has not been used for a few minutes: closing a live session
 * breaks clients that never re-initialize after a 404 (LangChain's MCP adapters, the AI SDK), so
 * when every candidate is live the new session is refused instead. One client can never lock
 * everyone else out by opening sessions, and sessions idle past --session-idle are swept.
 */
import { HttpError } from './checks.js';

/** What the store needs of a session. */
export interface SessionEntry {
  client: string;
  lastSeen: number;
  /** Requests being handled on this session now. */
  active: number;
  /** Event streams (GET) open on it now: a listening client is alive even when it sends nothing. */
  streams: number;
  close(): Promise<void>;
}

/** A session used within this long is never closed to make room for another. */
export const RECENT_MS = 5 * 60_000;

export class SessionStore<S extends SessionEntry> {
  private readonly sessions = new Map<string, S>();

  constructor(private readonly o: { max: number; perClient: number; idleMs: number; recentMs?: number; now?: () => number }) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The session with this id, marked as seen. */
  get(id: string): S | undefined {
    const s = this.sessions.get(id);
    if (s) s.lastSeen = this.now();
    return s;
  }

  add(id: string, s: S): void {
    this.sessions.set(id, s);
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Whether a session may be closed to make room: nothing in flight, no stream open, unused lately. */
  private evictable(s: S): boolean {
    return s.active === 0 && s.streams === 0 && s.lastSeen < this.now() - (this.o.recentMs ?? RECENT_MS);
  }

  private oldestIdle(filter: (s: S) => boolean): [string, S] | undefined {
    let best: [string, S] | undefined;
    for (const e of this.sessions) if (this.evictable(e[1]) && filter(e[1]) && (!best || e[1].lastSeen < best[1].lastSeen)) best = e;
    return best;
  }

  /**
   * Makes room for a new session of `client`, closing least recently used idle sessions as
   * needed; returns the ids it closed, or throws a retryable refusal when all are busy.
   */
  async admit(client: string): Promise<string[]> {
    const closed: string[] = [];
    const evict = async (e: [string, S]) => {
      this.sessions.delete(e[0]);
      closed.push(e[0]);
      await e[1].close().catch(() => undefined);
    };
    let mine = [...this.sessions.values()].filter((s) => s.client === client).length;
    while (mine >= this.o.perClient) {
      const e = this.oldestIdle((s) => s.client === client);
      if (!e)
        throw new HttpError(
          'rate_limited',
          `this client has ${mine} sessions open, all in use (limit ${this.o.perClient}, --max-sessions-per-client); close one or retry`,
          { retryAfterMs: 5000 },
        );
      await evict(e);
      mine--;
    }
    while (this.sessions.size >= this.o.max) {
      const e = this.oldestIdle(() => true);
      if (!e)
        throw new HttpError('overloaded', `all ${this.o.max} sessions are in use (--max-sessions); retry later`, { retryAfterMs: 5000 });
      await evict(e);
    }
    return closed;
  }

  /** Closes sessions idle past the timeout; returns their ids. */
  async sweep(): Promise<string[]> {
    const cut = this.now() - this.o.idleMs;
    const gone = [...this.sessions].filter(([, s]) => s.active === 0 && s.streams === 0 && s.lastSeen < cut);
    for (const [id, s] of gone) {
      this.sessions.delete(id);
      await s.close().catch(() => undefined);
    }
    return gone.map(([id]) => id);
  }

  /** Closes every session. */
  async closeAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.close().catch(() => undefined);
  }
}
