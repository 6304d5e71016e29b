/**
 * @module skills/folder-json
 * Reading a small JSON file that lives in a folder we were pointed at (a skills folder, a model
 * folder). The file must resolve inside that folder after symlinks: a link to /etc/shadow named
 * `x.json` would otherwise be read, and a parse error or schema message would echo its text into
 * the logs and to callers. It must also be a regular file (a FIFO would block the read) of a sane
 * size. Every refusal is a reason without any of the file's content.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative, sep } from 'node:path';

/** Why a file was not read; the message never holds its content. */
export class FolderFileError extends Error {
  override name = 'FolderFileError';

  /** @param reason what is wrong, without the file's name (the message has both) */
  constructor(
    file: string,
    readonly reason: string,
  ) {
    super(`${basename(file)}: ${reason}`);
  }
}

/** Whether `path` is `root` or inside it (both already real paths). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The parsed JSON of `file`, which must resolve inside `root` (its folder, or a folder above it
 * that the caller vouches for). Throws FolderFileError with a reason; ENOENT propagates as is.
 */
export function readFolderJson(file: string, root: string, maxBytes: number): unknown {
  const real = realpathSync(file);
  if (!isInside(realpathSync(root), real)) throw new FolderFileError(file, 'links outside its folder; not read');
  const st = statSync(real);
  if (!st.isFile()) throw new FolderFileError(file, 'not a regular file');
  if (st.size > maxBytes) throw new FolderFileError(file, `${st.size} bytes; at most ${maxBytes} are read`);
  return parseJsonQuietly(readFileSync(real, 'utf8'), file);
}

/**
 * JSON.parse whose error says where, never what: V8's message quotes the text around the fault
 * ("Unexpected token 'r', "root:x:0:0:"... is not valid JSON").
 */
export function parseJsonQuietly(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new FolderFileError(file, `invalid JSON${at ? ` (at character ${at})` : ''}`);
  }
}
