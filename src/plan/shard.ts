import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import type { Manifest, TargetName } from '../manifest/manifest.js';
import { sourceTargetOf } from '../manifest/manifest.js';

/**
 * `apply --shard K/N`: runner K of N takes the targets whose root source's
 * name hashes to K. A function of the manifest's names only (not of the
 * lock or the disk, which differ between CI runners), so the N runners of a
 * matrix split one manifest without talking; a derived target has its
 * source's root, so a chain is never split. The shared lock covers any
 * overlap a changed manifest could make (two runners on different commits).
 */
export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

const MAX_SHARDS = 1_000;

export function parseShard(text: string): Result<Shard, string> {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || index < 1 || count < 1 || index > count || count > MAX_SHARDS) {
    return err(`--shard must be K/N with 1 ≤ K ≤ N ≤ ${MAX_SHARDS}, e.g. --shard 2/4 (got ${JSON.stringify(text).slice(0, 40)})`);
  }
  return ok({ index, count });
}

/** The target a chain of remix/extend/edit starts from (itself for a plain clip). */
export function rootOf(manifest: Manifest, name: TargetName): TargetName {
  let root = name;
  const seen = new Set<TargetName>();
  for (let t = manifest.targets.get(root); t !== undefined && !seen.has(root); t = manifest.targets.get(root)) {
    seen.add(root);
    const source = sourceTargetOf(t);
    if (source === undefined || !manifest.targets.has(source)) break;
    root = source;
  }
  return root;
}

/** Which shard (1-based) a root name falls in: the first 4 bytes of its sha256, mod N. */
export function shardIndexOf(root: string, count: number): number {
  return 1 + (createHash('sha256').update(root).digest().readUInt32BE(0) % count);
}

/** The targets of shard K/N, in manifest order. */
export function targetsInShard(manifest: Manifest, shard: Shard): readonly TargetName[] {
  return [...manifest.targets.keys()].filter((name) => shardIndexOf(rootOf(manifest, name), shard.count) === shard.index);
}

/** One line for the plan's output: which targets this runner takes. */
export function describeShard(manifest: Manifest, shard: Shard, names: readonly TargetName[]): string {
  const shown = names.slice(0, 20).join(', ');
  const more = names.length > 20 ? `, … (${names.length - 20} more)` : '';
  return `shard ${shard.index}/${shard.count}: ${names.length} of ${manifest.targets.size} targets${names.length === 0 ? '' : `: ${shown}${more}`}`;
}
