import type { CharacterName, Manifest, TargetName } from '../manifest/manifest.js';
import { sourceTargetOf } from '../manifest/manifest.js';
import { editDistance } from '../manifest/did-you-mean.js';

/**
 * `--target a b` plans a and b plus everything they derive from (transitively):
 * a dependent cannot be built without its sources. O(selected + their sources).
 */
export function selectTargets(manifest: Manifest, names: readonly TargetName[]): ReadonlySet<TargetName> {
  const selected = new Set<TargetName>();
  for (const start of names) {
    let name: TargetName | undefined = start;
    while (name !== undefined && !selected.has(name)) {
      const t = manifest.targets.get(name);
      if (t === undefined) break;
      selected.add(name);
      name = sourceTargetOf(t);
    }
  }
  return selected;
}

/** Characters used by the selected targets. */
export function charactersOf(manifest: Manifest, selected: ReadonlySet<TargetName>): ReadonlySet<CharacterName> {
  const chars = new Set<CharacterName>();
  for (const name of selected) for (const c of manifest.targets.get(name)?.characters ?? []) chars.add(c);
  return chars;
}

/** Names given on the command line that are not targets, each with a suggestion when one is close. */
export function unknownTargetNames(
  manifest: Manifest,
  names: readonly string[],
): readonly { readonly name: string; readonly suggestion: string | undefined }[] {
  const out: { name: string; suggestion: string | undefined }[] = [];
  for (const name of names) {
    if (isTargetName(manifest, name)) continue;
    out.push({ name, suggestion: closest(name, [...manifest.targets.keys()]) });
  }
  return out;
}

export function isTargetName(manifest: Manifest, name: string): name is TargetName {
  for (const k of manifest.targets.keys()) if (k === name) return true;
  return false;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c, bestDist - 1);
    // Rewriting half of the longer name is no longer a typo: `zz` is not `a`.
    if (d < bestDist && d <= Math.floor(Math.max(word.length, c.length) / 2)) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}
