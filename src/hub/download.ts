/**
 * @module hub/download
 * Downloads from the model hub that survive a dropped connection, and the hub token.
 * `resumableFetch` is a `fetch` for the hub's file URLs: each file is written to
 * `<cache path>.incomplete` as it streams, and when the connection drops or stalls the download
 * continues from the bytes already on disk with an HTTP Range request (in the same response, so
 * the caller sees one whole file), up to a number of retries; a partial file left by a failed or
 * killed run is resumed by the next one. When the file is complete it is renamed into place.
 * The token (HF_TOKEN) is sent to the configured endpoint only, and never appears in messages.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Where the hub is and how to authenticate to it. */
export interface HubAccess {
  /** Base URL (https://huggingface.co, a mirror or a proxy). */
  endpoint: string;
  /** Bearer token for gated or private models; sent to `endpoint` only. */
  token?: string | undefined;
}

/** Options of {@link resumableFetch}. */
export interface ResumableOptions extends HubAccess {
  /** The download cache path for a URL, or undefined for requests that are not cached files. */
  target(url: string): string | undefined;
  /** Reconnections per file after a drop or stall (default 5). */
  retries?: number;
  /** A connection that sends nothing for this long is dropped and resumed (ms, default 30 s). */
  stallMs?: number;
  /** Told about each resumption (for logs: the URL and offset, never the token). */
  onResume?: (info: { url: string; from: number; attempt: number; reason: string }) => void;
  fetch?: typeof fetch;
}

/** Marks a response whose body writes itself to this cache path (the cache need not copy it). */
export const SAVED_TO = Symbol('savedTo');

/** Whether `url` is on the hub endpoint (same origin and under its path). */
export function onEndpoint(url: string, endpoint: string): boolean {
  try {
    const u = new URL(url);
    const e = new URL(endpoint);
    return u.origin === e.origin && u.pathname.startsWith(e.pathname.replace(/\/?$/, '/'));
  } catch {
    return false;
  }
}

/** Request headers with the token added for the hub endpoint (transformers.js sends it to huggingface.co only). */
export function hubHeaders(access: HubAccess, url: string, init?: ConstructorParameters<typeof Headers>[0]): Headers {
  const h = new Headers(init);
  if (access.token && onEndpoint(url, access.endpoint) && !h.has('authorization')) h.set('authorization', `Bearer ${access.token}`);
  return h;
}

const sizeOf = async (p: string) => (await stat(p).catch(() => undefined))?.size ?? 0;

/** A fetch whose hub file downloads resume (see the module notes). */
export function resumableFetch(o: ResumableOptions): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const base = o.fetch ?? fetch;
  const retries = o.retries ?? 5;
  const stallMs = o.stallMs ?? 30_000;
  return async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = hubHeaders(o, url, init.headers);
    const method = (init.method ?? 'GET').toUpperCase();
    // Whole-file GETs only: a request with its own Range (transformers.js's size probes) passes through.
    const target = method === 'GET' && !headers.has('range') && onEndpoint(url, o.endpoint) ? o.target(url) : undefined;
    if (!target) return base(url, { ...init, headers });

    const partial = `${target}.incomplete`;
    await mkdir(dirname(partial), { recursive: true });
    /** One GET from byte `from`, aborted if it stalls (the timer restarts on every chunk). */
    const get = async (from: number) => {
      const ac = new AbortController();
      const h = new Headers(headers);
      if (from > 0) h.set('range', `bytes=${from}-`);
      const res = await base(url, { ...init, headers: h, signal: ac.signal });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => ac.abort(new Error(`no data for ${stallMs} ms`)), stallMs);
        timer.unref?.();
      };
      const disarm = () => timer && clearTimeout(timer);
      return { res, arm, disarm };
    };

    let have = await sizeOf(partial);
    let conn = await get(have);
    if (conn.res.status === 416 && have > 0) {
      // The partial file is not a prefix of the current file (it changed upstream): start over.
      await truncate(partial, 0);
      have = 0;
      conn = await get(0);
    }
    if (!conn.res.ok || !conn.res.body) return conn.res; // 404, 401 ...: the caller reports it
    if (conn.res.status === 200 && have > 0) {
      await truncate(partial, 0); // the server ignored the range
      have = 0;
    }
    const range = /\/(\d+)\s*$/.exec(conn.res.headers.get('content-range') ?? '');
    const length = Number(conn.res.headers.get('content-length') ?? NaN);
    const total = range ? Number(range[1]) : have + length;
    const known = Number.isFinite(total);
    const onDisk = have;
    const fh = await open(partial, have > 0 ? 'a' : 'w');
    let written = have;
    let prefix: AsyncIterator<Buffer> | undefined =
      onDisk > 0 ? createReadStream(partial, { start: 0, end: onDisk - 1 })[Symbol.asyncIterator]() : undefined;
    let reader = conn.res.body.getReader();
    let skip = 0; // bytes to drop from a reconnection the server answered from the start
    let attempt = 0;
    conn.arm();

    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (prefix) {
          const { value, done } = await prefix.next();
          if (!done) return controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
          prefix = undefined;
        }
        for (;;) {
          let chunk: Uint8Array | undefined;
          let failure: string | undefined;
          try {
            const r = await reader.read();
            if (r.done) {
              if (!known || written >= total) break;
              failure = `connection closed at ${written} of ${total} bytes`;
            } else chunk = r.value;
          } catch (e) {
            failure = (e as Error).message || String(e);
          }
          if (chunk) {
            conn.arm();
            if (skip > 0) {
              const drop = Math.min(skip, chunk.length);
              skip -= drop;
              chunk = chunk.subarray(drop);
              if (chunk.length === 0) continue;
            }
            await fh.write(chunk);
            written += chunk.length;
            return controller.enqueue(chunk);
          }
          conn.disarm();
          if (attempt >= retries) {
            await fh.close();
            return controller.error(new Error(`download of ${url} failed after ${retries} resumptions: ${failure}`));
          }
          attempt++;
          o.onResume?.({ url, from: written, attempt, reason: failure! });
          await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
          try {
            conn = await get(written);
            if (!conn.res.ok || !conn.res.body) throw new Error(`hub answered ${conn.res.status} when resuming`);
            if (conn.res.status === 200) skip = written; // no range support: skip what we have
            reader = conn.res.body.getReader();
            conn.arm();
          } catch (e) {
            reader = {
              read: () => Promise.reject(e),
              releaseLock: () => undefined,
            } as unknown as ReadableStreamDefaultReader<Uint8Array>;
          }
        }
        conn.disarm();
        await fh.close();
        await rename(partial, target);
        controller.close();
      },
      cancel: async () => {
        conn.disarm();
        await reader.cancel().catch(() => undefined);
        await fh.close().catch(() => undefined);
      },
    });
    const res = new Response(body, {
      status: 200,
      headers: {
        ...(known ? { 'content-length': String(total) } : {}),
        'content-type': conn.res.headers.get('content-type') ?? 'application/octet-stream',
      },
    });
    Object.defineProperty(res, SAVED_TO, { value: target });
    return res;
  };
}
