// Watches sluice.yaml for edits (and takes SIGHUP) so budgets, templates and resource statuses change without a restart.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** Editors save in bursts (truncate, write, rename); one reload per burst. */
const SETTLE_MS = 150;

/**
 * Calls `onChange` after the file changes or the process gets SIGHUP. The directory is watched, not the file, because
 * editors and config-management tools replace the file by renaming a new one over it. Returns a function that stops.
 */
export function watchConfigFile(path: string, onChange: () => void): () => void {
  const file = basename(path);
  let timer: NodeJS.Timeout | null = null;
  const schedule = () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, SETTLE_MS);
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(resolve(path)), { persistent: false }, (_event, name) => {
      if (name === null || name === file) schedule();
    });
  } catch {
    // No file watching on this filesystem: SIGHUP still reloads.
  }
  process.on('SIGHUP', schedule);
  return () => {
    watcher?.close();
    process.off('SIGHUP', schedule);
    if (timer !== null) clearTimeout(timer);
  };
}
