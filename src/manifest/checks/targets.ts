import type { GenerateTarget, Target } from '../manifest.js';
import { isTargetName } from '../safe-name.js';
import type { RawVideo } from '../raw-manifest.js';
import { checkVideoCharacters } from './characters.js';
import type { CheckContext } from './context.js';
import { derivation } from './derivation.js';
import { checkInputReference, normalizeAssets, outputsOf } from './files.js';
import { checkGenerated } from './sizes-and-seconds.js';
import { derivedTarget, type ExtensionCounts, type TargetBase } from './sources-and-kinds.js';

/** A character that shows: not white space, not a zero-width or other invisible format character. */
const VISIBLE = /[^\s\p{Cf}\p{Cc}]/u;

/**
 * Resolve in dependency order so derived targets can inherit from resolved
 * sources; each target's checks run together, so its errors stay together.
 */
export function resolveTargets(ctx: CheckContext): void {
  const targetKeys = ctx.locator.keyLocations(['videos']);
  const extensionCounts: ExtensionCounts = new Map();
  for (const name of ctx.order) {
    const v = ctx.raw.videos[name];
    if (v === undefined || ctx.invalid.has(name) || !isTargetName(name)) continue;
    // An empty prompt is the schema's to refuse; one of only spaces or invisible characters would be sent, and paid for, as if it said something.
    if (v.prompt.length > 0 && !VISIBLE.test(v.prompt)) {
      ctx.error('blank-prompt', '`prompt` has no visible text (only spaces, line breaks or invisible characters); say what the video should show', ctx.valueAt('videos', name, 'prompt'));
    }
    const der = derivation(v);
    const location = targetKeys.get(name) ?? ctx.keyAt('videos', name);
    const assets = normalizeAssets(v.assets ?? ctx.defaults.assets);
    const outputs = outputsOf(ctx.outDir, name, assets);
    const characters = checkVideoCharacters(ctx, name, v, der?.kind);
    const base: TargetBase = { name, prompt: v.prompt, assets, outputs, characters, location };
    const target: Target | undefined = der === undefined ? generatedTarget(ctx, v, base) : derivedTarget(ctx, v, der, base, extensionCounts);
    if (target !== undefined) ctx.targets.set(name, target);
  }
}

function generatedTarget(ctx: CheckContext, v: RawVideo, base: TargetBase): GenerateTarget {
  const { name, prompt, assets, outputs, characters, location } = base;
  const m = checkGenerated(ctx, name, v);
  const inputReference = checkInputReference(ctx, name, v, m.size);
  return { kind: 'generate', name, prompt, ...m, assets, outputs, characters, location, inputReference };
}
