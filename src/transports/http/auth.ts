/**
 * @module transports/http/auth
 * API-key checks for the HTTP edge: keys arrive as `Authorization: Bearer <key>` or
 * `X-API-Key: <key>`; configured keys may be plaintext or `sha256:<hex>`. Every comparison is
 * between SHA-256 digests with timingSafeEqual, so timing reveals nothing about the keys.
 * The audit log names a key by a short id (a prefix of its hash), never the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A configured key, as its digest and a short id for logs. */
export interface KeyEntry {
  hash: Buffer;
  id: string;
}

/** Parses configured keys (plaintext or `sha256:<hex>`). */
export function parseKeys(keys: readonly string[]): KeyEntry[] {
  return keys.map((k) => {
    const m = /^sha256:([0-9a-f]{64})$/i.exec(k);
    const hash = m ? Buffer.from(m[1]!, 'hex') : digest(k);
    return { hash, id: hash.toString('hex').slice(0, 8) };
  });
}

/** The key a request presents, if any. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
  if (bearer) return bearer;
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x.length > 0 ? x : undefined;
}

/** Checks a presented key; returns the matching key's id, or undefined. Constant-time per key. */
export function checkKey(keys: readonly KeyEntry[], presented: string | undefined): string | undefined {
  if (presented === undefined) return undefined;
  const h = digest(presented);
  let found: string | undefined;
  for (const k of keys) if (timingSafeEqual(h, k.hash) && found === undefined) found = k.id;
  return found;
}

/** Loopback hosts, which may run without auth. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * Refuses a non-loopback bind without API keys unless `--insecure`: an exposed model server
 * with no auth lets anyone on the network use the models and the machine.
 */
export function bindSafetyError(o: { host: string; apiKeys: readonly string[]; insecure: boolean }): string | undefined {
  if (isLoopback(o.host) || o.apiKeys.length > 0 || o.insecure) return undefined;
  return (
    `refusing to listen on ${o.host} without authentication: anyone who can reach it could use the models. ` +
    'Set API keys (HF_MODEL_SERVER_API_KEYS or --api-key-file), bind to 127.0.0.1, or pass --insecure.'
  );
}
