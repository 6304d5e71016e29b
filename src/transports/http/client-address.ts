/**
 * @module transports/http/client-address
 * Which address a request comes from. Behind an ingress or load balancer every connection comes
 * from the proxy, so per-address limits (failed authentications, sessions, rates) would lump all
 * clients together; the proxy's X-Forwarded-For names the real client, but only a proxy we
 * trust (--trusted-proxy) may say so: anyone else could forge the header to dodge a limit.
 */
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** An address in one canonical form (IPv4-mapped IPv6 as plain IPv4), or undefined if not one. */
function parse(address: string | undefined): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!address || !ipaddr.isValid(address)) return undefined;
  return ipaddr.process(address);
}

/** Resolves client addresses for one server's trusted proxy ranges. */
export class ClientAddress {
  private readonly ranges: Range[];

  constructor(cidrs: readonly string[]) {
    this.ranges = cidrs.map((c) => {
      const [ip, bits] = ipaddr.parseCIDR(c);
      // An IPv4 range also covers its IPv4-mapped IPv6 form (dual-stack sockets report those).
      return [ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip, bits];
    });
  }

  private trusted(ip: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    return this.ranges.some(([r, bits]) => r.kind() === ip.kind() && ip.match(r as never, bits));
  }

  /**
   * The client's address: the socket's peer, unless that peer is a trusted proxy; then the
   * right-most X-Forwarded-For entry that is not itself a trusted proxy (entries left of it were
   * written by the client and prove nothing).
   */
  of(req: IncomingMessage): string {
    const peer = parse(req.socket.remoteAddress);
    const peerText = peer?.toString() ?? String(req.socket.remoteAddress);
    if (!peer || this.ranges.length === 0 || !this.trusted(peer)) return peerText;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    let last = peerText;
    for (let i = hops.length - 1; i >= 0; i--) {
      const ip = parse(hops[i]!.replace(/^\[|\](:\d+)?$/g, ''));
      if (!ip) return last; // a malformed hop: keep the last address a trusted proxy vouched for
      if (!this.trusted(ip)) return ip.toString();
      last = ip.toString();
    }
    return last;
  }
}
