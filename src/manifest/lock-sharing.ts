import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { lockfileNameForManifest } from '../lock/lockfile-path.js';

/**
 * Another manifest beside this one whose lock would be this one's:
 * `videos.yaml` and `videos.yml` both name `videos.lock`. Two manifests
 * sharing a lock see each other's jobs as orphans, so a `prune` of one
 * deletes the other's paid jobs and outputs. Refused before anything is read
 * from the lock. The same file under two names (a symlink, a hard link) is
 * one manifest, not two.
 */
export async function manifestSharingLock(absFile: string, display: string): Promise<Diagnostic | undefined> {
  const dir = path.dirname(absFile);
  const base = path.basename(absFile);
  const lock = lockfileNameForManifest(absFile);
  const names = await readdir(dir).catch(() => [] as string[]);
  const self = await stat(absFile).catch(() => undefined);
  for (const name of names.sort()) {
    if (name === base || !/\.ya?ml$/i.test(name) || lockfileNameForManifest(name) !== lock) continue;
    const other = await stat(path.join(dir, name)).catch(() => undefined);
    if (other === undefined || !other.isFile()) continue;
    if (self !== undefined && other.ino === self.ino && other.dev === self.dev) continue;
    return errorDiagnostic(
      'lock-shared',
      `${display} and ${name} in one folder would share ${lock}, and each would take the other's jobs for orphans (a prune deletes them); rename one of them (its lock is named after it)`,
    );
  }
  return undefined;
}
