/**
 * @module tasks/scopes
 * Authorization scopes. Over HTTP, callers carry scopes (API keys have all; JWTs their `scope`
 * claim); calls check them here. stdio callers are the local user and need none.
 *
 * | scope | grants | implied by |
 * |---|---|---|
 * | `models:read` | the resources (hf://models, which shows local paths, and hf://hardware), logging/setLevel | infer, admin |
 * | `models:infer` | the task tools (embed, similarity, classify, generate, ...) | admin |
 * | `models:admin` | load_model, unload_model, benchmark_model, and everything above | - |
 * | `metrics:read` | GET /metrics | admin |
 *
 * A token with none of these can still initialize a session and list the tools.
 */
import { ServerError } from '../errors.js';

/** Needed by load_model, unload_model, benchmark_model and anything that changes state. */
export const ADMIN_SCOPE = 'models:admin';
/** Needed by the task tools (embed, similarity, classify, generate, ...). */
export const INFER_SCOPE = 'models:infer';
/** Needed to read the resources (model registry with local paths, hardware) and set the log level. */
export const READ_SCOPE = 'models:read';
/** Needed to scrape /metrics. */
export const METRICS_SCOPE = 'metrics:read';

/** Every scope, and the scopes that imply it. */
const IMPLIED_BY: Record<string, readonly string[]> = {
  [ADMIN_SCOPE]: [],
  [INFER_SCOPE]: [ADMIN_SCOPE],
  [READ_SCOPE]: [INFER_SCOPE, ADMIN_SCOPE],
  [METRICS_SCOPE]: [ADMIN_SCOPE],
};

/** Whether credentials with `scopes` may do what `scope` guards. */
export function hasScope(scopes: readonly string[], scope: string): boolean {
  return scopes.includes(scope) || (IMPLIED_BY[scope] ?? []).some((s) => scopes.includes(s));
}

/** Throws `forbidden` unless the caller (if authenticated) has `scope` or one that implies it. */
export function requireScope(authInfo: { scopes: string[] } | undefined, scope: string): void {
  if (!authInfo) return;
  if (!hasScope(authInfo.scopes, scope)) {
    throw new ServerError(
      'forbidden',
      `this call needs the "${scope}" scope; the credentials have: ${authInfo.scopes.join(' ') || 'none'}`,
    );
  }
}
