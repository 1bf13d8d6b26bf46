import type { Stats } from 'node:fs';
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorDiagnostic, UserError, type Diagnostic } from './diagnostic.js';
import { makeDirs } from './make-dirs.js';

/**
 * A folder tree that vidbuild makes and alone writes in: the local cache
 * (`.vidbuild/cache`), the obsolete ledger, the emulator's state folder and
 * its renders. Its root is checked where the project is opened (it may be a
 * symlink only to a place inside the project: lock/state-folders.ts); below
 * the root nothing may be a symlink at all, wherever it leads, because
 * vidbuild made every folder and file there itself. Without this a link one
 * level down (`objects/f7 -> ~/elsewhere`) is written, read and deleted
 * through: `mkdir -p`, `stat`, `copyFile`, `unlink` and write-file-atomic
 * all follow it.
 *
 * Folders found plain are remembered for the life of the tree (one run, one
 * cache instance), so a hot path pays one `lstat` per folder, once.
 */
export class LinkFreeTree {
  readonly #checked = new Set<string>();

  /**
   * `projectDir`: the project the tree is in, which messages are relative to
   * and a link is judged against; undefined for a standalone emulator's
   * state folder, named by its absolute path.
   */
  constructor(
    readonly root: string,
    readonly projectDir: string | undefined,
  ) {}

  /**
   * Whether `dir` (the root or a folder below it) is there, every folder on
   * the way a plain folder; with `create`, the missing ones are made (so it
   * is then always true). Rejects with a `LinkInTreeError` at a symlink.
   */
  async folder(dir: string, create: boolean): Promise<boolean> {
    if (this.#checked.has(dir)) return true;
    const rel = path.relative(this.root, dir);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`link-free tree: ${dir} is not below ${this.root}`);
    if (!this.#checked.has(this.root)) {
      // The root itself was checked on opening; it may be a link inside the project.
      const st = await stat(this.root).catch(orMissing);
      if (st === undefined) {
        if (!create) return false;
        await makeDirs(this.root);
      } else if (!st.isDirectory()) {
        if (!create) return false;
        throw notADirectory(this.root);
      }
      this.#checked.add(this.root);
    }
    let cur = this.root;
    for (const part of rel === '' ? [] : rel.split(path.sep)) {
      cur = path.join(cur, part);
      if (this.#checked.has(cur)) continue;
      let st = await lstat(cur).catch(orMissing);
      if (st === undefined) {
        if (!create) return false;
        await mkdir(cur).catch((e: unknown) => (errnoOf(e) === 'EEXIST' ? undefined : Promise.reject(e)));
        // Made here, or by another process a moment ago: look again either way.
        st = await lstat(cur);
      }
      if (st.isSymbolicLink()) throw await this.linkError(cur, 'a folder');
      if (!st.isDirectory()) {
        if (!create) return false;
        throw notADirectory(cur);
      }
      this.#checked.add(cur);
    }
    return true;
  }

  /**
   * The `lstat` of a file in the tree (its folder checked), or undefined
   * when it or its folder is missing. Rejects at a symlink, the file's own
   * included: reading it would read wherever it leads, and write-file-atomic
   * writes there.
   */
  async fileStat(file: string): Promise<Stats | undefined> {
    if (!(await this.folder(path.dirname(file), false))) return undefined;
    const st = await lstat(file).catch(orMissing);
    if (st?.isSymbolicLink() === true) throw await this.linkError(file);
    return st;
  }

  /** Rejects when `names` (a listing of `dir`, with types) has a symlink in it. */
  async refuseLinksIn(dir: string, names: readonly { readonly name: string; isSymbolicLink(): boolean }[]): Promise<void> {
    const link = names.find((d) => d.isSymbolicLink());
    if (link !== undefined) throw await this.linkError(path.join(dir, link.name));
  }

  /** The error for a symlink at `abs`: `what` says what should be there instead (by default, what it leads to). */
  async linkError(abs: string, what?: string): Promise<LinkInTreeError> {
    const shown = this.#shown(abs);
    const real = await realpath(abs).catch(() => undefined);
    what ??= real === undefined ? 'a folder, or nothing' : (await stat(real).catch(() => undefined))?.isDirectory() === true ? 'a folder' : 'the file itself';
    if (real === undefined) {
      return new LinkInTreeError(abs, errorDiagnostic('symlink-dangling', `${shown} is a symlink to something that does not exist; vidbuild does not follow it: replace it with ${what}`));
    }
    if (this.projectDir !== undefined) {
      const root = await realpath(this.projectDir).catch(() => path.resolve(this.projectDir ?? '.'));
      const rel = path.relative(root, real);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
        return new LinkInTreeError(
          abs,
          errorDiagnostic('symlink-outside', `${shown} is a symlink leading outside the project (to ${real}); vidbuild reads and writes only inside the manifest's folder: replace it with ${what}`),
        );
      }
    }
    return new LinkInTreeError(
      abs,
      errorDiagnostic('symlink-in-state', `${shown} is a symlink (to ${this.#shown(real)}); vidbuild makes everything in ${this.#shown(this.root)} itself and follows no link there: replace it with ${what}`),
    );
  }

  #shown(abs: string): string {
    if (this.projectDir === undefined) return abs;
    const rel = path.relative(this.projectDir, abs);
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  }
}

/** A symlink where vidbuild keeps its own state: refused in one line (the CLI prints it as a `UserError`). */
export class LinkInTreeError extends UserError {
  readonly path: string;
  constructor(abs: string, diagnostic: Diagnostic) {
    super(diagnostic);
    this.name = 'LinkInTreeError';
    this.path = abs;
  }
}

function orMissing(e: unknown): undefined {
  if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
  throw e;
}

function notADirectory(abs: string): Error {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${abs}'`), { code: 'ENOTDIR', path: abs, syscall: 'mkdir' });
}

function errnoOf(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const code: unknown = Reflect.get(e, 'code');
  return typeof code === 'string' ? code : undefined;
}
