import { statSync } from 'node:fs';
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
 * A directory can be missing too (`input_reference: shots/new.png` before
 * `shots/` exists, or `rm -rf refs && git checkout refs`), and chokidar
 * watching a missing or deleted directory never sees it come back. So a
 * missing directory is watched through its nearest existing ancestor inside
 * `root`; when it appears (`addDir`), it is watched itself again and its
 * files are reported as changed, since they may have been written before its
 * watch was set up. (Several missing levels created at once, `mkdir -p`,
 * are found by the fresh look each `addDir` takes; one created in the few
 * milliseconds chokidar takes to start watching its parent is only seen at
 * the next save of the manifest, which re-sets the watched set.)
 *
 * chokidar is imported lazily so commands other than watch never load it.
 */
export interface FileWatcher {
  /** Replace the watched set (absolute paths). */
  setFiles(files: ReadonlySet<string>): void;
  close(): Promise<void>;
}

export interface FileWatcherOptions {
  /** The project directory: a missing directory is never looked for above it. */
  readonly root: string;
  /** A watched file was added, changed or removed (absolute path). */
  readonly onChange: (file: string) => void;
  readonly onError?: (error: Error) => void;
}

export async function openFileWatcher(
  initial: ReadonlySet<string>,
  options: FileWatcherOptions,
): Promise<FileWatcher> {
  const { watch } = await import('chokidar');
  const root = path.resolve(options.root);
  let files = new Set<string>(initial);
  let wanted = dirsOf(files);
  /** The wanted directories and their ancestors up to root: chokidar must not ignore these. */
  let chain = chainOf(wanted, root);
  let watched = watchTargets(wanted, root);
  const watcher: FSWatcher = watch([...watched], {
    ignoreInitial: true,
    atomic: true,
    depth: 0,
    persistent: true,
    // Called for every entry chokidar meets: keep the directories on the way to our files, and the files.
    ignored: (p: string) => !(chain.has(p) || files.has(p)),
  });

  /** Watch each wanted directory, or its nearest existing ancestor while it is missing. */
  const resync = (): readonly string[] => {
    const next = watchTargets(wanted, root);
    const added = [...next].filter((d) => !watched.has(d));
    const removed = [...watched].filter((d) => !next.has(d));
    watched = next;
    // A directory that vanished is already dropped by chokidar; unwatching it
    // would also make chokidar ignore its path, and so miss it coming back.
    const stale = removed.filter(isDirectory);
    if (stale.length > 0) watcher.unwatch(stale);
    // chokidar emits 'ready' only once per instance, so new directories are
    // not awaited: a change in the first milliseconds after a manifest edit
    // adds a directory is still caught by the next cycle's hashing.
    if (added.length > 0) watcher.add(added);
    return added;
  };

  watcher.on('all', (event, p) => {
    const abs = path.resolve(p);
    if (event === 'addDir' || event === 'unlinkDir') {
      if (!chain.has(abs)) return;
      for (const dir of resync()) {
        if (!wanted.has(dir)) continue;
        for (const f of files) if (path.dirname(f) === dir) options.onChange(f);
      }
      return;
    }
    if (files.has(abs)) options.onChange(abs);
  });
  watcher.on('error', (e: unknown) => options.onError?.(e instanceof Error ? e : new Error(String(e))));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  return {
    setFiles(next) {
      files = new Set(next);
      wanted = dirsOf(files);
      chain = chainOf(wanted, root);
      // Not reported as changes: the caller set these files because it just read them.
      resync();
    },
    close: () => watcher.close(),
  };
}

function dirsOf(files: ReadonlySet<string>): Set<string> {
  return new Set([...files].map((f) => path.dirname(f)));
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function chainOf(dirs: ReadonlySet<string>, root: string): Set<string> {
  const chain = new Set<string>();
  for (const dir of dirs) {
    chain.add(dir);
    for (let d = dir; inside(root, d) && d !== root; d = path.dirname(d)) chain.add(path.dirname(d));
  }
  return chain;
}

function watchTargets(dirs: ReadonlySet<string>, root: string): Set<string> {
  const targets = new Set<string>();
  for (const dir of dirs) {
    let d = dir;
    while (d !== root && inside(root, d) && !isDirectory(d)) d = path.dirname(d);
    targets.add(d);
  }
  return targets;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
