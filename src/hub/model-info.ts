/**
 * @module hub/model-info
 * What the hub says about a model, for inferring its skill before any weights are downloaded:
 * the file list (the hub's `/api/models/{id}/revision/{revision}`) and the small JSON files
 * inference reads (config.json, tokenizer_config.json). Failures are catalogued errors: a missing
 * model is model_not_found with the status, a gated one names HF_TOKEN, a network failure is
 * hub_unreachable.
 */
import { ERROR_CATALOG, ServerError } from '../errors.js';

/** What to do when the hub cannot be reached: the same advice a tool call gives. */
const ADVICE = ERROR_CATALOG.hub_unreachable.action;
import type { ModelListing } from '../skills/infer.js';
import { hubHeaders, type HubAccess } from './download.js';

/** Whether `s` looks like a Hub id (`org/name`, or a bare name) rather than a path. */
export function isHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(s) && !s.includes('..');
}

/** Largest model listing read from the hub (a repository with thousands of files lists in a few MB). */
export const MAX_LISTING_BYTES = 32 << 20;
/** Largest config file read from the hub (tokenizer configs with long chat templates run to a few hundred kB). */
export const MAX_HUB_CONFIG_BYTES = 16 << 20;
/** How long one hub request may take, headers and body together (ms). */
const HUB_TIMEOUT_MS = 30_000;

/** Settings for reading the hub's metadata. */
export interface HubReadOptions {
  fetch?: typeof fetch;
  /** Per request, headers and body together (ms; default 30 s). */
  timeoutMs?: number;
}

const timedOut = (access: HubAccess, ms: number, e: unknown) =>
  new ServerError('hub_unreachable', `the model hub at ${access.endpoint} did not answer within ${Math.round(ms / 1000)} s. ${ADVICE}`, {
    cause: e,
    retryAfterMs: 30_000,
  });

const isTimeout = (e: unknown) => e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');

/**
 * GETs `path` on the hub and reads its body as text, at most `max` bytes (declared or streamed),
 * within the timeout; every failure is a catalogued error, never an unbounded buffer or a stack.
 */
async function hubText(access: HubAccess, id: string, path: string, max: number, o: HubReadOptions): Promise<string> {
  const ms = o.timeoutMs ?? HUB_TIMEOUT_MS;
  const url = `${access.endpoint.replace(/\/+$/, '')}/${path}`;
  const signal = AbortSignal.timeout(ms);
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, { headers: hubHeaders(access, url), signal });
  } catch (e) {
    if (isTimeout(e)) throw timedOut(access, ms, e);
    throw new ServerError('hub_unreachable', `could not reach the model hub at ${access.endpoint} (${(e as Error).message}). ${ADVICE}`, {
      cause: e,
      retryAfterMs: 30_000,
    });
  }
  check(access, id, path, res);
  const tooLarge = () =>
    new ServerError('model_load_failed', `the hub's answer for ${path.slice(0, 200)} is larger than ${max} bytes; not read`);
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > max) {
        await res.body?.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(chunk as Uint8Array);
    }
  } catch (e) {
    if (e instanceof ServerError) throw e;
    if (isTimeout(e) || signal.aborted) throw timedOut(access, ms, e);
    throw new ServerError('hub_unreachable', `the model hub at ${access.endpoint} broke off its answer for ${path.slice(0, 200)}`, {
      cause: e,
      retryAfterMs: 30_000,
    });
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Maps the hub's refusals to catalogued errors. */
function check(access: HubAccess, id: string, path: string, res: Response): void {
  if (res.status === 401 || res.status === 403)
    throw new ServerError(
      'model_not_found',
      `the hub at ${access.endpoint} refused "${id}" (${res.status}): it is gated or private; accept its terms on the hub and set HF_TOKEN`,
    );
  if (res.status === 404) throw new ServerError('model_not_found', `the hub at ${access.endpoint} has no model "${id}" (404 for ${path})`);
  if (!res.ok) throw new ServerError('hub_unreachable', `the hub at ${access.endpoint} answered ${res.status} for ${path}`);
}

/** The listing of hub model `id` at `revision`: its files and the JSON files inference reads. */
export async function hubListing(access: HubAccess, id: string, revision = 'main', o: HubReadOptions = {}): Promise<ModelListing> {
  const rev = encodeURIComponent(revision);
  let info: { siblings?: Array<{ rfilename?: unknown }> };
  try {
    info = JSON.parse(await hubText(access, id, `api/models/${id}/revision/${rev}`, MAX_LISTING_BYTES, o)) as typeof info;
  } catch (e) {
    if (e instanceof ServerError) throw e;
    throw new ServerError('hub_unreachable', `the hub at ${access.endpoint} sent a listing for "${id}" that is not JSON`);
  }
  const files = (Array.isArray(info?.siblings) ? info.siblings : [])
    .map((s) => s?.rfilename)
    .filter((f): f is string => typeof f === 'string');
  const json = new Map<string, Record<string, unknown>>();
  for (const file of ['config.json', 'tokenizer_config.json']) {
    if (!files.includes(file)) continue;
    const text = await hubText(access, id, `${id}/resolve/${rev}/${file}`, MAX_HUB_CONFIG_BYTES, o);
    try {
      json.set(file, JSON.parse(text) as Record<string, unknown>);
    } catch {
      throw new ServerError('model_load_failed', `${file} of "${id}" on the hub is not valid JSON`);
    }
  }
  return { id, files, json: (file) => json.get(file) };
}
