import { LocalCache } from '../cache/local-cache.js';
import type { AssetCache } from './asset-cache.js';

/** The project's content-addressed cache (cache/local-cache.ts) as the executor sees it. */
export function projectCache(projectDir: string): AssetCache {
  const cache = new LocalCache(projectDir);
  return {
    lookup: async (fp) => cache.lookup(fp),
    add: async (record, variant, absFile, sha256, bytes) => {
      const { fingerprint, completedAt, expiresAt, ...rest } = record;
      const meta = {
        ...rest,
        ...(completedAt === undefined ? {} : { completedAt }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      };
      await cache.addAsset(fingerprint, meta, variant, absFile, sha256, bytes);
    },
    restore: async (fp, variant, absDest) => (await cache.restoreTo(fp, variant, absDest)).ok,
    restoreBytes: async (asset, absDest) => (await cache.restoreObject(asset, absDest)).ok,
    characterFor: async (name, fileSha256) => cache.characterFor(name, fileSha256),
    rememberCharacter: async (name, fileSha256, character) => cache.rememberCharacter(name, fileSha256, character),
    forgetCharacter: async (name, fileSha256, characterId) => cache.forgetCharacter(name, fileSha256, characterId),
  };
}
