/**
 * @module hub/model-info
 * What the hub says about a model, for inferring its skill before any weights are downloaded:
 * the file list (the hub's `/api/models/{id}/revision/{revision}`) and the small JSON files
 * inference reads (config.json, tokenizer_config.json). Failures are catalogued errors: a missing
 * model is model_not_found with the status, a gated one names HF_TOKEN, a network failure is
 * hub_unreachable.
 */
import { ServerError } from '../errors.js';
import type { ModelListing } from '../skills/infer.js';
import { hubHeaders, type HubAccess } from './download.js';

/** Whether `s` looks like a Hub id (`org/name`, or a bare name) rather than a path. */
export function isHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(s) && !s.includes('..');
}

/** GETs `path` on the hub, mapping failures to catalogued errors. */
async function hubGet(access: HubAccess, id: string, path: string, fetchImpl: typeof fetch): Promise<Response> {
  const url = `${access.endpoint.replace(/\/+$/, '')}/${path}`;
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: hubHeaders(access, url), signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new ServerError('hub_unreachable', `could not reach the model hub at ${access.endpoint}: ${(e as Error).message}`, {
      cause: e,
      retryAfterMs: 30_000,
    });
  }
  if (res.status === 401 || res.status === 403)
    throw new ServerError(
      'model_not_found',
      `the hub at ${access.endpoint} refused "${id}" (${res.status}): it is gated or private; accept its terms on the hub and set HF_TOKEN`,
    );
  if (res.status === 404) throw new ServerError('model_not_found', `the hub at ${access.endpoint} has no model "${id}" (404 for ${path})`);
  if (!res.ok) throw new ServerError('hub_unreachable', `the hub at ${access.endpoint} answered ${res.status} for ${path}`);
  return res;
}

/** The listing of hub model `id` at `revision`: its files and the JSON files inference reads. */
export async function hubListing(access: HubAccess, id: string, revision = 'main', fetchImpl: typeof fetch = fetch): Promise<ModelListing> {
  const rev = encodeURIComponent(revision);
  const info = (await (await hubGet(access, id, `api/models/${id}/revision/${rev}`, fetchImpl)).json()) as {
    siblings?: Array<{ rfilename?: unknown }>;
  };
  const files = (info.siblings ?? []).map((s) => s.rfilename).filter((f): f is string => typeof f === 'string');
  const json = new Map<string, Record<string, unknown>>();
  for (const file of ['config.json', 'tokenizer_config.json']) {
    if (!files.includes(file)) continue;
    const text = await (await hubGet(access, id, `${id}/resolve/${rev}/${file}`, fetchImpl)).text();
    try {
      json.set(file, JSON.parse(text) as Record<string, unknown>);
    } catch {
      throw new ServerError('model_load_failed', `${file} of "${id}" on the hub is not valid JSON`);
    }
  }
  return { id, files, json: (file) => json.get(file) };
}
