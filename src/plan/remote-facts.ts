import pLimit from 'p-limit';
import type { Result } from '../core/result.js';
import type { AssetVariant, CharacterName } from '../manifest/manifest.js';
import type { Fingerprint, Sha256 } from '../lock/lockfile.js';
import { variantsOf, type CacheEntry, type CachedAsset, type CachedCharacter } from '../cache/local-cache.js';
import type { CachedJob, CharacterStep, KnownCharacter, TargetStep } from './plan.js';

/**
 * The team's remote cache as planning asks it; remote/remote-cache.ts
 * answers. Kept structural so the planner's edge does not import the S3
 * side: what planning needs is two questions and a one-line error.
 */
export interface SharedCache {
  entry(fp: Fingerprint): Promise<Result<CacheEntry | undefined, { readonly message: string }>>;
  hasObject(asset: CachedAsset): Promise<Result<boolean, { readonly message: string }>>;
  /** The character the team created under this name from a video with these bytes. */
  character(name: CharacterName, fileSha256: Sha256): Promise<Result<CachedCharacter | undefined, { readonly message: string }>>;
}

/** Questions in flight at once: each is one small GET or HEAD. */
const ASK_CONCURRENCY = 8;

/**
 * Turns remote answers into disk facts for the pure planner, for the steps
 * that would otherwise pay: by fingerprint (an entry any machine pushed for
 * these inputs, as `cachedJobs` with `where: 'remote'`) and, for a locked
 * target whose job expired, the locked bytes themselves (`remoteAssets`).
 * Only variants whose object the remote really holds count. The first error
 * stops the asking and is kept in `problem`: the caller must then treat
 * the remote as unchecked, never as empty.
 */
export class RemoteAsker {
  problem: string | undefined;

  constructor(private readonly remote: SharedCache) {}

  /** True when something new was found (the plan is worth making again). */
  async ask(
    steps: readonly TargetStep[],
    cachedJobs: Map<Fingerprint, CachedJob>,
    remoteAssets: Map<Fingerprint, ReadonlySet<AssetVariant>>,
  ): Promise<boolean> {
    const limit = pLimit(ASK_CONCURRENCY);
    let found = false;
    await Promise.all(
      steps.map((step) =>
        limit(async () => {
          if (this.problem !== undefined) return;
          const locked = step.locked;
          if (step.action === 'regenerate' && locked?.fingerprint === step.fingerprint && locked.job.state === 'job') {
            const variants = await this.objectsThere(step.restores.map((r) => [r.variant, locked.assets[r.variant]] as const));
            if (variants.size > 0) {
              remoteAssets.set(step.fingerprint, variants);
              found = true;
            }
            return;
          }
          const entry = await this.remote.entry(step.fingerprint);
          if (!entry.ok) {
            this.problem ??= entry.error.message;
            return;
          }
          if (entry.value === undefined) return;
          const e = entry.value;
          const variants = await this.objectsThere([...variantsOf(e)].map((v) => [v, e.assets[v]] as const));
          if (variants.size === 0) return;
          cachedJobs.set(step.fingerprint, { jobId: e.jobId, createdAt: e.createdAt, variants, where: 'remote' });
          found = true;
        }),
      ),
    );
    return found;
  }

  /**
   * Characters the plan would create: the team may have made one from the
   * same bytes (a fresh clone, a video reverted on another machine). One
   * small GET each; true when one was found.
   */
  async askCharacters(steps: readonly CharacterStep[], known: Map<CharacterName, KnownCharacter>): Promise<boolean> {
    let found = false;
    for (const step of steps) {
      if (this.problem !== undefined) break;
      if (step.action !== 'create' && step.action !== 'replace' && step.action !== 'resume') continue;
      const sha = step.fileSha256;
      if (sha === undefined || known.has(step.name)) continue;
      const got = await this.remote.character(step.name, sha);
      if (!got.ok) this.problem ??= got.error.message;
      else if (got.value !== undefined) {
        known.set(step.name, { fileSha256: sha, ...got.value, where: 'remote' });
        found = true;
      }
    }
    return found;
  }

  private async objectsThere(assets: readonly (readonly [AssetVariant, CachedAsset | undefined])[]): Promise<Set<AssetVariant>> {
    const there = new Set<AssetVariant>();
    for (const [variant, asset] of assets) {
      if (asset === undefined || this.problem !== undefined) continue;
      const head = await this.remote.hasObject(asset);
      if (!head.ok) this.problem ??= head.error.message;
      else if (head.value) there.add(variant);
    }
    return there;
  }
}
