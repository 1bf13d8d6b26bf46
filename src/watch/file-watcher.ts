import path from 'node:path';
import type { FSWatcher } from 'chokidar';

/**
 * Watches an exact set of files, robust to how editors save.
 *
 * chokidar watching a file directly loses it after delete + recreate (the
 * inode it watched is gone), so we watch the *directories* holding the files
 * (depth 0) and filter entries to the set. A directory watch sees atomic
 * saves (write temp + rename over), a file deleted then recreated, and a
 * referenced file that does not exist yet. `atomic` folds the unlink+add of a
 * rename-over into one `change`. The set can change at any time
 * (`setFiles`): the filter is consulted on every event, and directories are
 * added and dropped as needed.
 *
 * chokidar is imported lazily so commands other than watch never load it.
 */
export interface FileWatcher {
  /** Replace the watched set (absolute paths). */
  setFiles(files: ReadonlySet<string>): void;
  close(): Promise<void>;
}

export interface FileWatcherOptions {
  /** A watched file was added, changed or removed (absolute path). */
  readonly onChange: (file: string) => void;
  readonly onError?: (error: Error) => void;
}

export async function openFileWatcher(
  initial: ReadonlySet<string>,
  options: FileWatcherOptions,
): Promise<FileWatcher> {
  const { watch } = await import('chokidar');
  let files = new Set<string>(initial);
  let dirs = dirsOf(files);
  const watcher: FSWatcher = watch([...dirs], {
    ignoreInitial: true,
    atomic: true,
    depth: 0,
    persistent: true,
    // Called for every entry chokidar meets: keep the directories themselves and the files we want.
    ignored: (p: string) => !(dirs.has(p) || files.has(p)),
  });
  watcher.on('all', (event, p) => {
    if (event === 'addDir' || event === 'unlinkDir') return;
    const abs = path.resolve(p);
    if (files.has(abs)) options.onChange(abs);
  });
  watcher.on('error', (e: unknown) => options.onError?.(e instanceof Error ? e : new Error(String(e))));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  return {
    setFiles(next) {
      const nextDirs = dirsOf(next);
      const added = [...nextDirs].filter((d) => !dirs.has(d));
      const removed = [...dirs].filter((d) => !nextDirs.has(d));
      files = new Set(next);
      dirs = nextDirs;
      if (removed.length > 0) watcher.unwatch(removed);
      // chokidar emits 'ready' only once per instance, so new directories are
      // not awaited: a change in the first milliseconds after a manifest edit
      // adds a directory is still caught by the next cycle's hashing.
      if (added.length > 0) watcher.add(added);
    },
    close: () => watcher.close(),
  };
}

function dirsOf(files: ReadonlySet<string>): Set<string> {
  return new Set([...files].map((f) => path.dirname(f)));
}
