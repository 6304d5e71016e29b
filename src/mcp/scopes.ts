/**
 * @module mcp/scopes
 * Authorization scopes. Over HTTP, callers carry scopes (API keys have all; JWTs their `scope`
 * claim); tools check them here. stdio callers are the local user and need none.
 */
import { ServerError } from '../errors.js';

/** Needed by load_model, unload_model, benchmark_model and anything that changes state. */
export const ADMIN_SCOPE = 'models:admin';
/** Needed by the task tools (embed, similarity, classify, generate, ...). */
export const INFER_SCOPE = 'models:infer';

/** Throws `forbidden` unless the caller (if authenticated) has `scope` (admin implies infer). */
export function requireScope(authInfo: { scopes: string[] } | undefined, scope: string): void {
  if (!authInfo) return;
  const ok = authInfo.scopes.includes(scope) || (scope === INFER_SCOPE && authInfo.scopes.includes(ADMIN_SCOPE));
  if (!ok) throw new ServerError('forbidden', `this call needs the "${scope}" scope; the credentials have: ${authInfo.scopes.join(' ') || 'none'}`);
}
