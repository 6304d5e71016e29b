/**
 * @module transports/http/auth
 * API-key checks for the HTTP edge: keys arrive as `Authorization: Bearer <key>` or
 * `X-API-Key: <key>`; configured keys may be plaintext or `sha256:<hex>`. Every comparison is
 * between SHA-256 digests with timingSafeEqual, so timing reveals nothing about the keys.
 * The audit log names a key by a short id (a prefix of its hash), never the key.
 * Bearer JWTs (jose) are verified with a shared HS256 secret or a local JWKS file. The accepted
 * algorithms are pinned (HS256 for a secret; asymmetric ones only for a JWKS, so a public key is
 * never used as an HMAC secret), and `exp` is required unless --jwt-allow-no-exp. Their
 * `scope`/`scp` claims carry the scopes of tasks/scopes.ts; an API key carries all of them
 * unless its line lists the ones it has.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createLocalJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Config } from '../../config/config.js';
import { ADMIN_SCOPE, INFER_SCOPE, METRICS_SCOPE, READ_SCOPE } from '../../tasks/scopes.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A configured key, as its digest, a short id for logs, and the scopes it carries. */
export interface KeyEntry {
  hash: Buffer;
  id: string;
  scopes: string[];
}

const ALL_SCOPES = [READ_SCOPE, INFER_SCOPE, ADMIN_SCOPE, METRICS_SCOPE];

/**
 * Parses configured keys: plaintext or `sha256:<hex>`, optionally followed by the scopes the key
 * carries (`<key> metrics:read`), so a scraper's key cannot run models. A key alone has every scope.
 */
export function parseKeys(keys: readonly string[]): KeyEntry[] {
  return keys.map((line, i) => {
    const [k, ...scopes] = line.trim().split(/\s+/);
    const unknown = scopes.filter((s) => !ALL_SCOPES.includes(s));
    if (unknown.length > 0)
      throw new Error(
        `API key line ${i + 1}: unknown scope ${unknown.map((u) => `"${u.slice(0, 40)}"`).join(', ')}; valid: ${ALL_SCOPES.join(' ')}`,
      );
    const m = /^sha256:([0-9a-f]{64})$/i.exec(k!);
    const hash = m ? Buffer.from(m[1]!, 'hex') : digest(k!);
    return { hash, id: hash.toString('hex').slice(0, 8), scopes: scopes.length > 0 ? scopes : ALL_SCOPES };
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

/** Checks a presented key; returns the matching key, or undefined. Constant-time per key. */
export function checkKey(keys: readonly KeyEntry[], presented: string | undefined): KeyEntry | undefined {
  if (presented === undefined) return undefined;
  const h = digest(presented);
  let found: KeyEntry | undefined;
  for (const k of keys) if (timingSafeEqual(h, k.hash) && found === undefined) found = k;
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
export function bindSafetyError(o: {
  host: string;
  apiKeys: readonly string[];
  insecure: boolean;
  jwtSecret?: string | undefined;
  jwksFile?: string | undefined;
}): string | undefined {
  if (isLoopback(o.host) || o.apiKeys.length > 0 || o.jwtSecret || o.jwksFile || o.insecure) return undefined;
  return (
    `refusing to listen on ${o.host} without authentication: anyone who can reach it could use the models. ` +
    'Set API keys (HF_MODEL_SERVER_API_KEYS or --api-key-file), bind to 127.0.0.1, or pass --insecure.'
  );
}

/** The only algorithm a shared secret verifies: the one the secret was configured for. */
const HMAC_ALGORITHMS = ['HS256'];
/** Algorithms a JWKS verifies: public-key ones only. */
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Why a request was refused. */
export class AuthError extends Error {}

/** Checks API keys and JWTs; `enabled` is false when no credentials are configured. */
export class Authenticator {
  private readonly keys: KeyEntry[];
  private readonly jwtKey: Uint8Array | JWTVerifyGetKey | undefined;
  private readonly algorithms: string[];

  constructor(private readonly config: Pick<Config, 'apiKeys' | 'jwtSecret' | 'jwksFile' | 'jwtIssuer' | 'jwtAudience' | 'jwtAllowNoExp'>) {
    this.keys = parseKeys(config.apiKeys);
    if (config.jwtSecret) {
      this.jwtKey = new TextEncoder().encode(config.jwtSecret);
      this.algorithms = HMAC_ALGORITHMS;
    } else {
      if (config.jwksFile) this.jwtKey = createLocalJWKSet(JSON.parse(readFileSync(config.jwksFile, 'utf8')));
      this.algorithms = ASYMMETRIC_ALGORITHMS;
    }
  }

  get enabled(): boolean {
    return this.keys.length > 0 || this.jwtKey !== undefined;
  }

  /** The caller's identity and scopes; throws AuthError when credentials are missing or wrong. */
  async authenticate(req: IncomingMessage): Promise<AuthInfo | undefined> {
    if (!this.enabled) return undefined;
    const token = presentedKey(req);
    if (!token) throw new AuthError('missing credentials');
    const key = checkKey(this.keys, token);
    if (key) return { token: `key:${key.id}`, clientId: `key:${key.id}`, scopes: [...key.scopes] };
    if (this.jwtKey && token.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(token, this.jwtKey as never, {
          algorithms: this.algorithms,
          ...(this.config.jwtAllowNoExp ? {} : { requiredClaims: ['exp'] }),
          ...(this.config.jwtIssuer ? { issuer: this.config.jwtIssuer } : {}),
          ...(this.config.jwtAudience ? { audience: this.config.jwtAudience } : {}),
        });
        const raw = payload.scope ?? payload.scp ?? [];
        const scopes = Array.isArray(raw) ? raw.map(String) : String(raw).split(/\s+/).filter(Boolean);
        return { token: 'jwt', clientId: `jwt:${payload.sub ?? 'anonymous'}`, scopes, ...(payload.exp ? { expiresAt: payload.exp } : {}) };
      } catch (e) {
        throw new AuthError(`invalid token: ${(e as Error).message}`);
      }
    }
    throw new AuthError('invalid API key');
  }
}
