/**
 * @module media/source
 * Turns a tool's media argument into bytes. Four sources: base64 text, a `data:` URI, a local
 * path (only inside the allowed folders, checked after resolving `..` and symlinks, never a
 * hidden file or folder), and an
 * http(s) URL (only with --allow-urls, through the SSRF guard in media/fetch.ts). Every source is
 * capped at the configured byte limit before it is decoded.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Config } from '../config/config.js';
import { ServerError, echo } from '../errors.js';
import { fetchMedia } from './fetch.js';

/** Media settings (config.media). */
export type MediaConfig = Config['media'];

/** Where the bytes came from, for logs and results. */
export type SourceKind = 'base64' | 'data-uri' | 'path' | 'url';

/** Bytes of one media input. */
export interface MediaBytes {
  bytes: Buffer;
  kind: SourceKind;
  /** The MIME type a data: URI or HTTP response declared, if any (never trusted for decoding). */
  declaredType?: string | undefined;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function tooLarge(n: number, cfg: MediaConfig): ServerError {
  return new ServerError('media_too_large', `media is ${mib(n)}, over the ${mib(cfg.maxBytes)} limit (--max-media-size)`);
}

/** Decodes base64 (standard or URL-safe, whitespace allowed), refusing anything else. */
export function decodeBase64(text: string, cfg: MediaConfig, field: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length === 0) throw new ServerError('invalid_media', `${field} is empty`);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(clean)) throw new ServerError('invalid_media', `${field} is not valid base64`);
  if (Math.floor((clean.length * 3) / 4) > cfg.maxBytes + 3) throw tooLarge(Math.floor((clean.length * 3) / 4), cfg);
  const buf = Buffer.from(clean, clean.includes('-') || clean.includes('_') ? 'base64url' : 'base64');
  if (buf.length > cfg.maxBytes) throw tooLarge(buf.length, cfg);
  return buf;
}

/** Parses a data: URI; only base64 payloads are accepted for binary media. */
export function decodeDataUri(uri: string, cfg: MediaConfig, field: string): MediaBytes {
  const m = /^data:([^,;]*)((?:;[^,;]*)*),(.*)$/s.exec(uri);
  if (!m) throw new ServerError('invalid_media', `${field} is not a valid data: URI`);
  if (!m[2]!.split(';').includes('base64'))
    throw new ServerError('invalid_media', `${field}: only base64 data: URIs are accepted (data:<type>;base64,...)`);
  return { bytes: decodeBase64(m[3]!, cfg, field), kind: 'data-uri', declaredType: m[1] || undefined };
}

/** The local path of a file: URI, percent-decoded (file:///tmp/a%20b.png is /tmp/a b.png). */
function filePath(uri: string, field: string): string {
  try {
    return fileURLToPath(uri);
  } catch {
    throw new ServerError('invalid_input', `${field}: ${echo(uri)} is not a valid local file: URI`);
  }
}

/** True when `child` is `root` or lies below it (both already resolved). */
function inside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Whether `path` does not exist but would lie inside one of `roots` (real paths), with no hidden part. */
async function missingInside(path: string, roots: string[]): Promise<boolean> {
  let dir = path;
  const rest: string[] = [];
  for (;;) {
    const parent = dirname(dir);
    rest.unshift(basename(dir));
    if (parent === dir) return false;
    dir = parent;
    const real = await realpath(dir).catch(() => undefined);
    if (real === undefined) continue;
    const root = roots.find((r) => inside(r, real));
    if (root === undefined) return false;
    return ![...relative(root, real).split(sep), ...rest].some((part) => part.startsWith('.'));
  }
}

/**
 * Reads a local file that lies inside an allowed folder. The check runs on the real path, so
 * `..` segments and symlinks that lead outside are refused. The file is opened non-blocking and
 * checked on that descriptor before a byte is read: a FIFO, socket or device (whose open or read
 * can block a thread-pool thread until someone writes to it) is refused, and the regular file
 * read is the one whose size was checked. `signal` (the call's deadline) bounds the read.
 *
 * A missing file and a file outside the allowed folders get the same answer, so the error does
 * not tell a caller what exists where it may not look.
 */
export async function readAllowedFile(path: string, cfg: MediaConfig, field: string, signal?: AbortSignal): Promise<Buffer> {
  if (cfg.allowDirs.length === 0) {
    throw new ServerError(
      'path_not_allowed',
      `${field}: local paths are disabled (no allowed folder); start the server with --allow-dir DIR (or HF_MODEL_SERVER_ALLOW_DIR in the MCP client's env), or send the file as base64`,
    );
  }
  const refused = () =>
    new ServerError(
      'path_not_allowed',
      `${field}: ${echo(path)} is not a readable file inside the allowed folders (${cfg.allowDirs.join(', ')}); add its folder with --allow-dir DIR or HF_MODEL_SERVER_ALLOW_DIR, or send base64`,
    );
  const roots = await Promise.all(cfg.allowDirs.map((d) => realpath(d).catch(() => resolve(d))));
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch {
    // Missing inside the allowed folders (its nearest existing folder really lies inside one, and
    // nothing on the way is hidden): say so. Anywhere else, the one answer, so that nobody can
    // probe for files outside.
    if (await missingInside(resolve(path), roots)) throw new ServerError('file_not_found', `${field}: ${echo(path)} was not found`);
    throw refused();
  }
  const root = roots.find((r) => inside(r, real));
  if (root === undefined) throw refused();
  // Hidden files and folders (.ssh, .env, .git ...) hold secrets, not media.
  if (
    relative(root, real)
      .split(sep)
      .some((part) => part.startsWith('.'))
  ) {
    throw new ServerError(
      'path_not_allowed',
      `${field}: ${echo(path)} is hidden (a name starting with "."); hidden files and folders are not read`,
    );
  }
  const fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY).catch(() => {
    throw refused();
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new ServerError('path_not_allowed', `${field}: ${echo(path)} is not a regular file`);
    if (st.size > cfg.maxBytes) throw tooLarge(st.size, cfg);
    if (st.size === 0) throw new ServerError('invalid_media', `${field}: ${echo(path)} is empty`);
    return await fh.readFile(signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw e;
  } finally {
    await fh.close();
  }
}

/**
 * Resolves a media argument: a `data:` URI, an http(s) URL, or a local path. Base64 text
 * travels in its own field (`<field>_base64`) and goes to {@link decodeBase64}.
 */
export async function loadMedia(ref: string, cfg: MediaConfig, field: string, signal?: AbortSignal): Promise<MediaBytes> {
  const s = ref.trim();
  if (s.length === 0) throw new ServerError('invalid_input', `${field} is empty`);
  if (/^data:/i.test(s)) return decodeDataUri(s, cfg, field);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    if (/^file:\/\//i.test(s)) return { bytes: await readAllowedFile(filePath(s, field), cfg, field, signal), kind: 'path' };
    const r = await fetchMedia(s, cfg, field, signal);
    return { ...r, kind: 'url' };
  }
  return { bytes: await readAllowedFile(s, cfg, field, signal), kind: 'path' };
}
