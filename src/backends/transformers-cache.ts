/**
 * @module backends/transformers-cache
 * A file cache for transformers.js (its `env.customCache` hook) whose responses read lazily,
 * and which hands ONNX files to onnxruntime by path.
 * transformers.js's own local-file response starts streaming the whole file into memory as soon
 * as it is created, even when only the file's size is wanted (its metadata checks do exactly
 * that), so each model load held the ONNX file in memory two or three times over. Here a response
 * opens the file only when its body or arrayBuffer() is used. It serves absolute local paths
 * (how the loader passes local models) and, when enabled, downloaded files under the cache dir,
 * which hub/download.ts writes in place as they stream (resumably).
 */
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { SAVED_TO } from '../hub/download.js';

const TYPES: Record<string, string> = { json: 'application/json', txt: 'text/plain', onnx: 'application/octet-stream' };

/** A pull-based stream over a file: it is opened on the first read, never if unread. */
function lazyStream(path: string): ReadableStream<Uint8Array> {
  let iter: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      iter ??= createReadStream(path, { highWaterMark: 1 << 20 })[Symbol.asyncIterator]();
      const { value, done } = await iter.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    async cancel() {
      await iter?.return?.();
    },
  });
}

/**
 * A Response over a local file that reads nothing until its body or arrayBuffer() is used.
 * (It must be a real Response: transformers.js reads cached Responses with arrayBuffer().)
 */
export class LazyFileResponse extends Response {
  constructor(readonly filePath: string) {
    super(lazyStream(filePath), {
      status: 200,
      headers: {
        'content-length': String(statSync(filePath).size),
        'content-type': TYPES[filePath.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream',
      },
    });
  }

  // Read the file directly instead of through the stream (one allocation, no chunk copies).
  override arrayBuffer = async (): Promise<ArrayBuffer> => {
    const b = await readFile(this.filePath);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };

  override text = async (): Promise<string> => readFile(this.filePath, 'utf8');

  override json = async (): Promise<unknown> => JSON.parse(await this.text());

  override clone = (): LazyFileResponse => new LazyFileResponse(this.filePath);
}

/** The cache object transformers.js calls (`match` and `put`). */
export class LazyFileCache {
  /** @param dir Download cache folder, or null to serve local paths only and store nothing. */
  constructor(private readonly dir: string | null) {}

  /**
   * The file for a cache key. transformers.js asks with the local path first, then with the
   * remote URL (`<host>/<model>/resolve/<revision>/<file>`); a URL maps to the local folder when
   * the model is a local path, else to `<dir>/<model>[/<revision>]/<file>` (its FS cache layout).
   */
  pathOf(key: string): string | undefined {
    const url = /^https?:\/\/[^/]+\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(key);
    if (url) {
      const [, model, revision, file] = url as unknown as [string, string, string, string];
      const rev = decodeURIComponent(revision);
      // A local model's URL carries its absolute path (joined without the leading slash).
      const local = model.startsWith('/') ? model : `/${model}`;
      if (existsSync(local)) return join(local, file);
      if (!this.dir) return undefined;
      const path = resolve(this.dir, model, ...(rev === 'main' ? [] : [rev]), file);
      // Ids and file names come from the hub's URLs: never a path outside the cache.
      return path.startsWith(resolve(this.dir) + sep) ? path : undefined;
    }
    if (isAbsolute(key)) return key;
    return this.dir ? join(this.dir, key) : undefined;
  }

  /** Where a hub file URL is downloaded to (undefined when nothing is stored). */
  downloadPath(url: string): string | undefined {
    const path = this.dir ? this.pathOf(url) : undefined;
    return path && path.startsWith(resolve(this.dir!) + sep) ? path : undefined;
  }

  async match(key: string): Promise<LazyFileResponse | string | undefined> {
    const path = this.pathOf(key);
    if (!path || !existsSync(path)) return undefined;
    // transformers.js asks for ONNX files by URL key last, to get something to create the session
    // from: a path string lets onnxruntime read the file itself, with no copy held in JavaScript.
    if (/^https?:/.test(key) && /\.onnx(_data(_\d+)?)?$/.test(path)) return path;
    try {
      return statSync(path).isFile() ? new LazyFileResponse(path) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores a download atomically (temp file, then rename), reporting progress. */
  async put(key: string, response: Response, progress?: (p: { progress: number; loaded: number; total: number }) => void): Promise<void> {
    const path = this.dir && !isAbsolute(key) ? this.pathOf(key) : undefined;
    if (!path || !path.startsWith(this.dir!) || !response.body) return;
    if ((response as Response & { [SAVED_TO]?: string })[SAVED_TO] === path) {
      // A resumable download writes itself into place as it is read: read it, copy nothing.
      const total = Number(response.headers.get('content-length') ?? 0);
      let loaded = 0;
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        loaded += value.length;
        progress?.({ progress: total ? (loaded / total) * 100 : 0, loaded, total });
      }
    }
    const tmp = `${path}.tmp.${process.pid}.${Math.random().toString(36).slice(2)}`;
    const total = Number(response.headers.get('content-length') ?? 0);
    let loaded = 0;
    try {
      await mkdir(dirname(path), { recursive: true });
      const out = createWriteStream(tmp);
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await new Promise<void>((res, rej) => out.write(value, (e) => (e ? rej(e) : res())));
        loaded += value.length;
        progress?.({ progress: total ? (loaded / total) * 100 : 0, loaded, total });
      }
      await new Promise<void>((res, rej) => out.close((e) => (e ? rej(e) : res())));
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }
}
