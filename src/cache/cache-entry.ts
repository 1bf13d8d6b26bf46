import { parseJsonObject } from '../core/json-object.js';
import type { AssetVariant } from '../manifest/manifest.js';
import { isFingerprint, isJobId, isSha256, isTargetKey } from '../lock/lock-names.js';
import type { CacheEntry, CachedAsset } from './local-cache.js';

const VARIANTS: readonly AssetVariant[] = ['video', 'thumbnail', 'spritesheet'];

/** An index file's text, keys in one order wherever it is written (here, or pushed to the remote), so it round-trips byte for byte. */
export function entryJson(entry: CacheEntry): string {
  const { fingerprint, assets, ...meta } = entry;
  return `${JSON.stringify({ ...meta, fingerprint, assets }, null, 2)}\n`;
}

/** Narrows an index file; anything unexpected is treated as "not cached". */
export function parseEntry(raw: string): CacheEntry | undefined {
  const v = parseJsonObject(raw);
  if (v === undefined) return undefined;
  const get = (k: string): unknown => Reflect.get(v, k);
  const fingerprint = get('fingerprint');
  const name = get('name');
  const kind = get('kind');
  const prompt = get('prompt');
  const model = get('model');
  const size = get('size');
  const seconds = get('seconds');
  const jobId = get('jobId');
  const createdAt = get('createdAt');
  const completedAt = get('completedAt');
  const expiresAt = get('expiresAt');
  const rawAssets = get('assets');
  if (
    typeof fingerprint !== 'string' ||
    !isFingerprint(fingerprint) ||
    typeof name !== 'string' ||
    !isTargetKey(name) ||
    (kind !== 'generate' && kind !== 'remix' && kind !== 'edit' && kind !== 'extend') ||
    typeof prompt !== 'string' ||
    typeof model !== 'string' ||
    typeof size !== 'string' ||
    typeof seconds !== 'number' ||
    typeof jobId !== 'string' ||
    !isJobId(jobId) ||
    typeof createdAt !== 'string' ||
    typeof rawAssets !== 'object' ||
    rawAssets === null
  ) {
    return undefined;
  }
  const assets: Partial<Record<AssetVariant, CachedAsset>> = {};
  for (const variant of VARIANTS) {
    const a: unknown = Reflect.get(rawAssets, variant);
    if (typeof a !== 'object' || a === null) continue;
    const sha256 = Reflect.get(a, 'sha256');
    const bytes = Reflect.get(a, 'bytes');
    if (typeof sha256 === 'string' && isSha256(sha256) && typeof bytes === 'number') assets[variant] = { sha256, bytes };
  }
  return {
    fingerprint,
    name,
    kind,
    prompt,
    model,
    size,
    seconds,
    jobId,
    createdAt,
    ...(isIsoTime(completedAt) ? { completedAt } : {}),
    ...(isIsoTime(expiresAt) ? { expiresAt } : {}),
    assets,
  };
}

export function isIsoTime(v: unknown): v is string {
  return typeof v === 'string' && Number.isFinite(Date.parse(v));
}
