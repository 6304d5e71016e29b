/**
 * @module media/fetch
 * Downloads a media URL with an SSRF guard. URLs are off unless --allow-urls. Every address a
 * host name resolves to is checked at connect time (inside the socket's DNS lookup, so a second
 * resolution cannot swap in a private address), and each redirect is checked again. Loopback,
 * private, link-local, unique-local, CGNAT, multicast and unspecified addresses are refused unless
 * --allow-private-urls. The body is capped at the byte limit and the whole download at a timeout.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Config } from '../config/config.js';
import { ServerError, echo } from '../errors.js';

type MediaConfig = Config['media'];

/** Redirects followed at most. */
export const MAX_REDIRECTS = 3;

/**
 * The IPv4 addresses an IPv6 address carries inside it, by the standard embeddings: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96 and 64:ff9b:1::/48), 6to4
 * (2002:AABB:CCDD::) and Teredo (server in bits 32-63, client inverted in the last 32 bits).
 * Empty when it embeds none.
 */
export function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4[] {
  const w = ip.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (w[5] === 0xffff || w[5] === 0) && !(w[5] === 0 && zeros(6, 7) && w[7]! <= 1)) return [v4(w[6]!, w[7]!)];
  if (w[0] === 0x64 && w[1] === 0xff9b && (zeros(2, 6) || w[2] === 1)) return [v4(w[6]!, w[7]!)];
  if (w[0] === 0x2002) return [v4(w[1]!, w[2]!)];
  if (w[0] === 0x2001 && w[1] === 0) return [v4(w[2]!, w[3]!), v4(w[6]! ^ 0xffff, w[7]! ^ 0xffff)];
  return [];
}

/**
 * Whether an IP address is publicly routable (false for loopback, private, link-local, ...). An
 * IPv6 address that embeds IPv4 addresses is judged by them, since a gateway may deliver it there.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6') {
    const inner = embeddedIPv4(ip as ipaddr.IPv6);
    if (inner.length > 0) return inner.every((v4) => v4.range() === 'unicast');
  }
  return ip.range() === 'unicast';
}

function refused(field: string, why: string): ServerError {
  return new ServerError('url_not_allowed', `${field}: ${why}`);
}

/** A DNS lookup that fails the connection when any resolved address is not public. */
function guardedLookup(field: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as LookupAddress[];
      const bad = list.find((a) => !isPublicAddress(a.address));
      if (bad)
        return callback(
          refused(
            field,
            `${hostname} resolves to ${bad.address}, a non-public address (see --allow-private-urls)`,
          ) as NodeJS.ErrnoException,
          '',
          0,
        );
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** Downloads `url` under the media limits. */
export async function fetchMedia(
  url: string,
  cfg: MediaConfig,
  field: string,
  signal?: AbortSignal,
): Promise<{ bytes: Buffer; declaredType?: string | undefined }> {
  if (!cfg.allowUrls) throw refused(field, 'media URLs are disabled; start the server with --allow-urls, or send the bytes as base64');
  const timeout = AbortSignal.timeout(cfg.urlTimeoutMs);
  const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let u: URL;
    try {
      u = new URL(current);
    } catch {
      throw new ServerError('invalid_input', `${field}: ${echo(current)} is not a valid URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw refused(field, `only http and https URLs are fetched, not ${u.protocol}`);
    if (u.username || u.password) throw refused(field, 'URLs with credentials are refused');
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!cfg.allowPrivateUrls && ipaddr.isValid(host) && !isPublicAddress(host)) {
      throw refused(field, `${host} is a non-public address (see --allow-private-urls)`);
    }
    const res = await request(u, cfg, field, all);
    if (res.redirect) {
      current = new URL(res.redirect, u).href;
      continue;
    }
    return { bytes: res.body!, declaredType: res.type };
  }
  throw new ServerError('fetch_failed', `${field}: more than ${MAX_REDIRECTS} redirects`);
}

interface Response {
  redirect?: string;
  body?: Buffer;
  type?: string | undefined;
}

function request(u: URL, cfg: MediaConfig, field: string, signal: AbortSignal): Promise<Response> {
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const req = mod.get(
      u,
      {
        signal,
        ...(cfg.allowPrivateUrls ? {} : { lookup: guardedLookup(field) }),
        headers: { 'user-agent': 'hf-model-server', accept: '*/*' },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          return resolve({ redirect: res.headers.location });
        }
        if (status < 200 || status >= 300) {
          res.resume();
          return reject(new ServerError('fetch_failed', `${field}: ${u.origin}${u.pathname} answered HTTP ${status}`));
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > cfg.maxBytes) {
          res.destroy();
          return reject(
            new ServerError(
              'media_too_large',
              `${field}: the download is ${declared} bytes, over the ${cfg.maxBytes}-byte limit (--max-media-size)`,
            ),
          );
        }
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > cfg.maxBytes) {
            res.destroy();
            reject(new ServerError('media_too_large', `${field}: the download passed the ${cfg.maxBytes}-byte limit (--max-media-size)`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ body: Buffer.concat(chunks), type: res.headers['content-type'] }));
        res.on('error', (e) => reject(wrap(e, field, signal)));
      },
    );
    req.on('error', (e) => reject(wrap(e, field, signal)));
  });
}

function wrap(e: unknown, field: string, signal: AbortSignal): ServerError {
  if (e instanceof ServerError) return e;
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof ServerError) return cause;
  if (signal.aborted) {
    const r = signal.reason as { name?: string } | undefined;
    if (r?.name === 'TimeoutError') return new ServerError('fetch_failed', `${field}: the download timed out`);
    return new ServerError('cancelled', 'request cancelled by the client');
  }
  return new ServerError('fetch_failed', `${field}: ${(e as Error).message}`);
}
