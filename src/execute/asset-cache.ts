import type { AssetVariant, CharacterName, TargetKind, TargetName } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, Sha256 } from '../lock/lockfile.js';

/**
 * What the executor needs from the content-addressed cache
 * (cache/local-cache.ts). Kept as a narrow interface so the executor can be
 * read (and tested) without the cache's internals.
 */
export interface CachedGeneration {
  readonly jobId: JobId | undefined;
  readonly createdAt: string | undefined;
  readonly completedAt?: string | undefined;
  readonly expiresAt?: string | undefined;
  /** The shape of the video the API made (an edit of an uploaded file takes the file's). */
  readonly size?: string | undefined;
  readonly seconds?: number | undefined;
  readonly assets: Readonly<Partial<Record<AssetVariant, { readonly sha256: Sha256; readonly bytes: number }>>>;
}

export interface CacheRecord {
  readonly fingerprint: Fingerprint;
  readonly name: TargetName;
  readonly kind: TargetKind;
  readonly prompt: string;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  readonly jobId: JobId;
  readonly createdAt: string;
  readonly completedAt?: string | undefined;
  readonly expiresAt?: string | undefined;
}

export interface AssetCache {
  lookup(fp: Fingerprint): Promise<CachedGeneration | undefined>;
  /** Copies a verified output into the cache. */
  add(record: CacheRecord, variant: AssetVariant, absFile: string, sha256: Sha256, bytes: number): Promise<void>;
  /** Copies a cached asset to `absDest` (temp + rename); false when it is not there or fails verification. */
  restore(fp: Fingerprint, variant: AssetVariant, absDest: string): Promise<boolean>;
  /** Copies the cached object with these exact bytes to `absDest`; false when it is not there or fails verification. */
  restoreBytes(asset: { readonly sha256: Sha256; readonly bytes: number }, absDest: string): Promise<boolean>;
  /** The character created before under this name from a video with these bytes. */
  characterFor(name: CharacterName, fileSha256: Sha256): Promise<{ readonly characterId: CharacterId; readonly createdAt: string } | undefined>;
  rememberCharacter(name: CharacterName, fileSha256: Sha256, character: { readonly characterId: CharacterId; readonly createdAt: string }): Promise<void>;
  /** Forgets this character for these bytes, locally (it no longer exists at the API). */
  forgetCharacter(name: CharacterName, fileSha256: Sha256, characterId: CharacterId): Promise<void>;
  /** Resolves once what was added under `fp` so far has reached the team's remote, or failed to (absent: no remote). */
  pushed?(fp: Fingerprint): Promise<void>;
}

/** A cache that holds nothing (when the cache directory cannot be used). */
export const NO_CACHE: AssetCache = {
  lookup: async () => undefined,
  add: async () => {},
  restore: async () => false,
  restoreBytes: async () => false,
  characterFor: async () => undefined,
  rememberCharacter: async () => {},
  forgetCharacter: async () => {},
};
