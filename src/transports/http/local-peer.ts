/**
 * @module transports/http/local-peer
 * Which local process is on the other end of a loopback connection (Linux). Without keys, every
 * local client has the address 127.0.0.1, so per-client session caps would lump a desktop client,
 * an editor and a script together, and one of them re-initializing in a loop would close the
 * others' sessions. The kernel's socket table (/proc/net/tcp, tcp6) names the client socket's
 * owner and inode; the process holding that inode is found among the ones we may inspect (our
 * user's). Where that is not possible (another OS, another user's process) the owner's uid still
 * separates users, and failing that the address is all there is.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';

/** Hex form of an address and port as /proc/net/tcp writes them (IPv4: little-endian per word). */
function procKey(address: string, port: number): string[] {
  const p = port.toString(16).toUpperCase().padStart(4, '0');
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(address);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map((x) => Number(x).toString(16).toUpperCase().padStart(2, '0'));
    const le = `${d}${c}${b}${a}`;
    // The same socket on a dual-stack listener appears in tcp6 as ::ffff:a.b.c.d.
    return [`${le}:${p}`, `0000000000000000FFFF0000${le}:${p}`];
  }
  if (address === '::1') return [`00000000000000000000000001000000:${p}`];
  return [];
}

/** The uid and inode of the local socket bound at `key`, from the kernel's tables. */
function socketEntry(keys: string[]): { uid: number; inode: string } | undefined {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && keys.includes(f[1]!)) return { uid: Number(f[7]), inode: f[9]! };
    }
  }
  return undefined;
}

/** The pid holding socket `inode`, among the processes this one may inspect. */
function pidOf(inode: string): number | undefined {
  const target = `socket:[${inode}]`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/**
 * A name for the local process behind a loopback connection (`local:pid:N`, or `local:uid:N` when
 * only the owner is known), or undefined when it cannot be told (not Linux, not loopback).
 */
function lookUp(socket: Socket): string | undefined {
  const { remoteAddress, remotePort } = socket;
  if (!remoteAddress || !remotePort || process.platform !== 'linux') return undefined;
  if (!/^(::ffff:)?127\.|^::1$/.test(remoteAddress)) return undefined;
  const entry = socketEntry(procKey(remoteAddress, remotePort));
  if (!entry) return undefined;
  const pid = pidOf(entry.inode);
  return pid !== undefined ? `local:pid:${pid}` : `local:uid:${entry.uid}`;
}

/** Local peers of connections, looked up once per connection (the process behind a socket does not change). */
export class LocalPeers {
  private readonly known = new WeakMap<Socket, string | null>();

  of(socket: Socket): string | undefined {
    let name = this.known.get(socket);
    if (name === undefined) {
      name = lookUp(socket) ?? null;
      this.known.set(socket, name);
    }
    return name ?? undefined;
  }
}
