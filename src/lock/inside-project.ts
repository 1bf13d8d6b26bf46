import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';

/**
 * vidbuild reads and writes only inside the manifest's folder. A project file
 * it keeps itself (`videos.lock`, `.vidbuild/`) may be a symlink only if it
 * leads to a place inside the project, as for outputs and referenced files
 * (src/plan/disk-facts.ts): one leading out, or nowhere, is refused rather
 * than read or written through (write-file-atomic writes where a link leads).
 */
export type InsidePath = { readonly kind: 'missing' } | { readonly kind: 'present'; readonly real: string; readonly isDirectory: boolean };

/**
 * Where `abs` really is, if that is inside `projectDir`. `shown` names it in
 * the message; `what` says what it should be instead ("the lockfile itself").
 */
export async function resolveInsideProject(projectDir: string, abs: string, shown: string, what: string): Promise<Result<InsidePath, Diagnostic>> {
  const st = await lstat(abs).catch((e: unknown) => (isErrno(e) && e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  if (st === undefined) return ok({ kind: 'missing' });
  if (!st.isSymbolicLink()) return ok({ kind: 'present', real: abs, isDirectory: st.isDirectory() });
  const root = await realpath(projectDir);
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    return err(errorDiagnostic('symlink-dangling', `${shown} is a symlink to something that does not exist; vidbuild does not follow it: replace it with ${what}`));
  }
  const rel = path.relative(root, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    return err(
      errorDiagnostic(
        'symlink-outside',
        `${shown} is a symlink leading outside the project (to ${real}); vidbuild reads and writes only inside the manifest's folder: replace it with ${what}`,
      ),
    );
  }
  const target = await lstat(real);
  return ok({ kind: 'present', real, isDirectory: target.isDirectory() });
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && 'code' in e;
}
