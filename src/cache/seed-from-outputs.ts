import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { AssetVariant } from '../manifest/manifest.js';
import type { Lockfile } from '../lock/lockfile.js';
import { isTargetKey } from '../lock/lock-names.js';
import { LinkInTreeError } from '../core/link-free-tree.js';
import { LocalCache } from './local-cache.js';

/**
 * Puts outputs that are on disk exactly as videos.lock records them into the
 * cache when the cache lacks them: after `.vidbuild/` was deleted, on a
 * fresh clone of a repository that commits its outputs, or for outputs
 * imported before the cache existed. Without this, the bytes of a paid job
 * sit on disk while a renamed target, a moved `outDir` or a reverted prompt
 * plans a download, or once the job has expired, a paid `regenerate`.
 *
 * Cheap when the cache is warm: one stat per locked asset. A file is copied
 * in only when its size matches and its bytes hash to the locked sha256
 * (the cache verifies the copy). An index entry that names another job for
 * the same fingerprint (a second take, a --replace) is left alone. Only
 * files inside the project are read. Errors skip the asset (this is an
 * optimisation), except a symlink inside the cache, which is refused. Returns how many assets were added.
 */
const VARIANTS: readonly AssetVariant[] = ['video', 'thumbnail', 'spritesheet'];

export async function seedCacheFromOutputs(projectDir: string, lock: Lockfile): Promise<number> {
  const cache = new LocalCache(projectDir);
  let root: string;
  try {
    root = await realpath(projectDir);
  } catch {
    return 0;
  }
  let added = 0;
  for (const [name, entry] of Object.entries(lock.videos)) {
    const job = entry.job;
    if (!isTargetKey(name) || job.state !== 'job' || job.status !== 'completed') continue;
    for (const variant of VARIANTS) {
      const asset = entry.assets[variant];
      if (asset === undefined) continue;
      try {
        if (await cache.hasObject(asset)) continue;
        const abs = path.join(projectDir, asset.path);
        const real = await realpath(abs);
        if (!real.startsWith(root + path.sep)) continue;
        const st = await lstat(real);
        if (!st.isFile() || st.size !== asset.bytes) continue;
        const indexed = await cache.lookup(entry.fingerprint);
        if (indexed !== undefined && indexed.jobId !== job.jobId) continue;
        await cache.addAsset(
          entry.fingerprint,
          {
            name,
            kind: entry.kind,
            prompt: job.request.prompt,
            model: entry.model,
            size: entry.size,
            seconds: entry.seconds,
            jobId: job.jobId,
            createdAt: job.createdAt,
            ...(job.completedAt === undefined ? {} : { completedAt: job.completedAt }),
            ...(job.expiresAt === undefined ? {} : { expiresAt: job.expiresAt }),
          },
          variant,
          real,
          asset.sha256,
          asset.bytes,
        );
        added++;
      } catch (e: unknown) {
        // A link inside the cache is refused, never skipped: the plan would count on this copy.
        if (e instanceof LinkInTreeError) throw e;
        // Not the locked bytes, unreadable, or the cache cannot be written: skip.
      }
    }
  }
  return added;
}
