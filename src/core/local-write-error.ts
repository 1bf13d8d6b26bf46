/**
 * Errors of this machine's file system while writing an output or the
 * lockfile, as opposed to faults of the network or the API. A full disk, a
 * quota, a read-only mount or a permission problem does not go away by
 * downloading again (each retry would fill the disk the same way and delete
 * its partial file), so such a failure is final for the target: say what and
 * where at once, and never retry it. Node reports them as errors with an
 * errno `code` (ENOSPC…), possibly wrapped in a `cause` by a stream pipeline.
 *
 * None of them is a bug of vidbuild either: wherever one escapes (the run
 * lock, the cache, the lockfile of a command), the CLI says which file and
 * why in one line and exits 1, never "internal error" with a stack.
 */
export interface LocalWriteError {
  /** The errno name, e.g. `ENOSPC`. */
  readonly errno: string;
  /** What it means, in words. */
  readonly what: string;
  /** The file the failed call was about, when Node says (absolute, or as the call was given it). */
  readonly path: string | undefined;
  /** The failed call (`open`, `write`, `mkdir`, `rename`…), when Node says. */
  readonly syscall: string | undefined;
}

const LOCAL_WRITE_ERRNOS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EFBIG: 'file too large for the file system',
  EISDIR: 'a directory is in the way',
  ENOTDIR: 'a file is in the way of a directory',
  ENAMETOOLONG: 'file name too long',
};

/** Calls that only look: a failure of one is "cannot read", of any other "cannot write". */
const READING_SYSCALLS: ReadonlySet<string> = new Set(['read', 'scandir', 'opendir', 'stat', 'lstat', 'fstat', 'readlink', 'realpath', 'access']);

/** The errno error in `e` or its causes; its path is the outermost one named (see `LocalFileError`). */
export function localWriteErrorOf(e: unknown): LocalWriteError | undefined {
  let cur: unknown = e;
  let named: string | undefined;
  for (let depth = 0; depth < 6 && cur instanceof Error; depth++) {
    named ??= stringField(cur, 'path');
    const errno = stringField(cur, 'code');
    if (errno !== undefined) {
      const what = LOCAL_WRITE_ERRNOS[errno];
      if (what !== undefined) return { errno, what, path: named, syscall: stringField(cur, 'syscall') };
    }
    cur = cur.cause;
  }
  return undefined;
}

/**
 * A local write error with the file it was about. Node names no file in the
 * error of a `write` or `fsync` (a full disk fails there), and a writer that
 * goes through a temp file names the temp: the code that knows which file it
 * was writing wraps the error in this, so the message names that file.
 */
export class LocalFileError extends Error {
  readonly path: string;
  constructor(file: string, cause: unknown) {
    const w = localWriteErrorOf(cause);
    super(w === undefined ? `cannot write ${file}` : describeLocalWriteAt({ ...w, path: file }, file), { cause });
    this.name = 'LocalFileError';
    this.path = file;
  }
}

/** `cannot write <what> in <dir>: no space left on the device (ENOSPC)`. */
export function describeLocalWrite(w: LocalWriteError, what: string, dir: string): string {
  return `cannot write ${what} in ${dir}: ${w.what} (${w.errno})`;
}

/**
 * `cannot write .vidbuild/run.lock: read-only file system (EROFS)`, with the
 * file as the user should see it (`file`: relative to the working directory
 * when possible). "cannot read" when the failed call only looked.
 */
export function describeLocalWriteAt(w: LocalWriteError, file: string): string {
  const verb = w.syscall !== undefined && READING_SYSCALLS.has(w.syscall) ? 'read' : 'write';
  return `cannot ${verb} ${file}: ${w.what} (${w.errno})`;
}

function stringField(e: Error, key: string): string | undefined {
  const v: unknown = Reflect.get(e, key);
  return typeof v === 'string' ? v : undefined;
}
