import { parseJsonObject } from '../core/json-object.js';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { lstat, link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { describeLocalWriteAt, localWriteErrorOf } from '../core/local-write-error.js';
import { err, ok, type Result } from '../core/result.js';
import { resolveInsideProject } from './inside-project.js';
import { makeDirs } from '../core/make-dirs.js';

/** Who holds the run lock, as written in `.vidbuild/run.lock`. */
export interface RunLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** e.g. `apply`, `watch`. */
  readonly command: string;
  /** ISO time. */
  readonly startedAt: string;
}

/**
 * An exclusive claim on the project's lockfile: only one vidbuild run writes
 * `videos.lock` at a time. Release it when done; the CLI also calls
 * `releaseSync()` from a process `exit` handler so a crash does not leave it.
 */
export interface RunLock {
  readonly path: string;
  readonly holder: RunLockHolder;
  /** Set when a lock left by a dead process was taken over. */
  readonly warning: Diagnostic | undefined;
  release(): Promise<void>;
  releaseSync(): void;
}

export const RUN_LOCK_PATH = path.join('.vidbuild', 'run.lock');

export interface AcquireOptions {
  /** Injected for tests: is this pid alive on this host? */
  readonly isAlive?: (pid: number) => boolean;
  readonly pid?: number;
  readonly hostname?: string;
  readonly now?: () => Date;
}

/**
 * Takes `.vidbuild/run.lock`. The file is written completely under a temp
 * name and then hard-linked into place, which fails if the lock exists: the
 * lock is never seen half-written. A holder on this host whose pid is gone is
 * taken over (with a warning); a live holder — or one on another host, which
 * we cannot check — makes this fail at once, naming it. A project that cannot
 * be written (read-only, full, not ours) fails here, before anything else is
 * done, with the file and the cause.
 */
export async function acquireRunLock(
  projectDir: string,
  command: string,
  options: AcquireOptions = {},
): Promise<Result<RunLock, Diagnostic>> {
  try {
    return await takeRunLock(projectDir, command, options);
  } catch (e: unknown) {
    const local = localWriteErrorOf(e);
    if (local === undefined) throw e;
    // Node names the temp file, or (for a failed write) no file: the lock is what could not be taken.
    const stateDir = path.dirname(RUN_LOCK_PATH);
    const file = local.path !== undefined && path.resolve(local.path) === path.resolve(projectDir, stateDir) ? stateDir : RUN_LOCK_PATH;
    return err(errorDiagnostic('run-lock-unwritable', `${describeLocalWriteAt(local, file)}; nothing was changed`));
  }
}

async function takeRunLock(projectDir: string, command: string, options: AcquireOptions): Promise<Result<RunLock, Diagnostic>> {
  const lockPath = path.join(projectDir, RUN_LOCK_PATH);
  const isAlive = options.isAlive ?? pidAlive;
  const holder: RunLockHolder = {
    pid: options.pid ?? process.pid,
    hostname: options.hostname ?? osHostname(),
    command,
    startedAt: (options.now?.() ?? new Date()).toISOString(),
  };
  const content = `${JSON.stringify(holder)}\n`;
  // `.vidbuild/` and the lock in it are written only if they are inside the project.
  const stateDir = path.dirname(lockPath);
  const state = await resolveInsideProject(projectDir, stateDir, path.dirname(RUN_LOCK_PATH), 'a folder');
  if (!state.ok) return err(state.error);
  if (state.value.kind === 'present' && !state.value.isDirectory) {
    return err(errorDiagnostic('state-dir-not-folder', `${path.dirname(RUN_LOCK_PATH)} is not a folder; vidbuild keeps its state there: move it away`));
  }
  if (state.value.kind === 'missing') await makeDirs(stateDir);

  let warning: Diagnostic | undefined;
  // Two rounds: the second only after clearing a stale lock.
  for (let attempt = 0; attempt < 3; attempt++) {
    const tmp = `${lockPath}.${holder.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, content, { flag: 'wx' }).catch(async (e: unknown) => {
      // A full disk makes the file and fails its write: leave nothing behind.
      await unlink(tmp).catch(() => undefined);
      throw e;
    });
    try {
      await link(tmp, lockPath);
      return ok(makeLock(lockPath, holder, content, warning));
    } catch (e: unknown) {
      if (!isErrno(e) || e.code !== 'EEXIST') throw e;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }

    const held = await lstat(lockPath).catch(() => undefined);
    if (held?.isSymbolicLink() === true) {
      return err(errorDiagnostic('run-locked', `${RUN_LOCK_PATH} is a symlink, not a run lock vidbuild wrote; if no vidbuild is running, delete it`));
    }
    const raw = await readFile(lockPath, 'utf8').catch((e: unknown) => (isErrno(e) && e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    if (raw === undefined) continue; // released between our link and our read
    const current = parseHolder(raw);
    if (current === undefined) {
      return err(errorDiagnostic('run-locked', `this project is in use (${RUN_LOCK_PATH} exists but is unreadable); if no vidbuild is running, delete ${RUN_LOCK_PATH}`));
    }
    const sameHost = current.hostname === holder.hostname;
    if (!sameHost || isAlive(current.pid)) {
      return err(errorDiagnostic('run-locked', `this project is in use by ${describeHolder(current, !sameHost)}`));
    }
    if (!(await removeIfStill(lockPath, raw))) continue;
    warning = {
      code: 'run-lock-stale',
      severity: 'warning',
      message: `took over ${RUN_LOCK_PATH} from ${describeHolder(current, false)}, which is no longer running`,
    };
  }
  return err(errorDiagnostic('run-locked', `this project is in use (could not take ${RUN_LOCK_PATH}; another vidbuild keeps claiming it)`));
}

/** `pid 1234 (vidbuild apply, since 12:01:03)` */
export function describeHolder(h: RunLockHolder, showHost: boolean): string {
  const cmd = h.command.startsWith('vidbuild') ? h.command : `vidbuild ${h.command}`;
  const since = new Date(h.startedAt);
  const time = Number.isNaN(since.getTime()) ? h.startedAt : since.toTimeString().slice(0, 8);
  return `pid ${h.pid}${showHost ? ` on ${h.hostname}` : ''} (${cmd}, since ${time})`;
}

/**
 * Removes a stale lock only if it is still the one we judged stale: it is
 * first renamed aside (atomic, so of two racing takers only one moves it), and
 * put back if what was moved turns out to be a fresh lock someone just took.
 */
async function removeIfStill(lockPath: string, staleRaw: string): Promise<boolean> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (e: unknown) {
    if (isErrno(e) && e.code === 'ENOENT') return true;
    throw e;
  }
  const moved = await readFile(aside, 'utf8');
  if (moved !== staleRaw) {
    await link(aside, lockPath).catch(() => undefined);
    await unlink(aside);
    return false;
  }
  await unlink(aside);
  return true;
}

function makeLock(lockPath: string, holder: RunLockHolder, content: string, warning: Diagnostic | undefined): RunLock {
  let released = false;
  // Only remove the lock if it is still ours: never delete another run's claim.
  const stillOurs = (raw: string | undefined) => raw === content;
  return {
    path: lockPath,
    holder,
    warning,
    async release() {
      if (released) return;
      released = true;
      const raw = await readFile(lockPath, 'utf8').catch(() => undefined);
      if (stillOurs(raw)) await unlink(lockPath).catch(() => undefined);
    },
    releaseSync() {
      if (released) return;
      released = true;
      let raw: string | undefined;
      try {
        raw = readFileSync(lockPath, 'utf8');
      } catch {
        raw = undefined;
      }
      if (stillOurs(raw)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      }
    },
  };
}

function parseHolder(raw: string): RunLockHolder | undefined {
  const v = parseJsonObject(raw);
  if (v === undefined) return undefined;
  const pid = Reflect.get(v, 'pid');
  const hostname = Reflect.get(v, 'hostname');
  const command = Reflect.get(v, 'command');
  const startedAt = Reflect.get(v, 'startedAt');
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  return {
    pid,
    hostname: typeof hostname === 'string' ? hostname : '',
    command: typeof command === 'string' ? command : '?',
    startedAt: typeof startedAt === 'string' ? startedAt : '?',
  };
}

/** Signal 0 checks existence: ESRCH = gone; EPERM = alive but someone else's. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return !(isErrno(e) && e.code === 'ESRCH');
  }
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && 'code' in e;
}
