/**
 * Errors of this machine's file system while writing an output or the
 * lockfile, as opposed to faults of the network or the API. A full disk, a
 * quota, a read-only mount or a permission problem does not go away by
 * downloading again (each retry would fill the disk the same way and delete
 * its partial file), so such a failure is final for the target: say what and
 * where at once, and never retry it. Node reports them as errors with an
 * errno `code` (ENOSPC…), possibly wrapped in a `cause` by a stream pipeline.
 */
export interface LocalWriteError {
  /** The errno name, e.g. `ENOSPC`. */
  readonly errno: string;
  /** What it means, in words. */
  readonly what: string;
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

export function localWriteErrorOf(e: unknown): LocalWriteError | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 6 && cur instanceof Error; depth++) {
    const errno = 'code' in cur && typeof cur.code === 'string' ? cur.code : undefined;
    if (errno !== undefined) {
      const what = LOCAL_WRITE_ERRNOS[errno];
      if (what !== undefined) return { errno, what };
    }
    cur = cur.cause;
  }
  return undefined;
}

/** `cannot write <what> in <dir>: no space left on the device (ENOSPC)`. */
export function describeLocalWrite(w: LocalWriteError, what: string, dir: string): string {
  return `cannot write ${what} in ${dir}: ${w.what} (${w.errno})`;
}
