/**
 * @module skills/watch
 * Watches the skills folders and calls back once a burst of changes has settled. Editors save
 * by writing, renaming or replacing files, each a separate event, so events are debounced and
 * the callback re-reads the whole folder rather than trusting any one event. Node's fs.watch
 * (inotify on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows) covers flat folders of
 * manifests, so no watcher library is needed. A folder that does not exist is created when
 * possible, so skills added later are seen; one that cannot be watched is logged and skipped.
 */
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../logger.js';

/** Watches `dirs`; `onChange` runs `debounceMs` after the last event of a burst. Returns the stop function. */
export function watchSkillDirs(dirs: readonly string[], onChange: () => void, logger: Logger, debounceMs = 150): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
    timer.unref?.();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true });
      const w = watch(dir, { persistent: false }, fire);
      w.on('error', (e) => logger.warn({ dir, err: e.message }, 'skills folder watch failed; restart to pick up changes there'));
      watchers.push(w);
    } catch (e) {
      logger.warn({ dir, err: (e as Error).message }, 'cannot watch skills folder; changes there need a restart');
    }
  }
  logger.debug({ dirs }, 'watching skills folders');
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
