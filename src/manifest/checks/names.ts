import { didYouMean } from '../did-you-mean.js';
import { unsafeNameReason } from '../safe-name.js';
import type { CheckContext } from './context.js';
import { derivation, verb } from './derivation.js';

/**
 * Target names (each becomes an output file name) and the target each
 * derived one names as its source. One pass, so a target's errors stay
 * together in manifest order.
 */
export function checkNamesAndReferences(ctx: CheckContext): void {
  const videos = ctx.raw.videos;
  const names = Object.keys(videos);
  const nameSet = new Set(names);
  for (const name of names) {
    const v = videos[name];
    if (v === undefined) continue;
    const reason = unsafeNameReason(name);
    if (reason !== undefined) {
      ctx.error('unsafe-name', `target name \`${name}\` ${reason}; it becomes the output file name`, ctx.keyAt('videos', name));
      ctx.invalid.add(name);
    }
    const der = derivation(v);
    if (der === undefined || typeof der.source !== 'string') continue;
    const ref = der.source;
    if (ref === name) {
      ctx.error('self-reference', `\`${name}\` cannot ${verb(der.kind)} itself`, ctx.valueAt('videos', name, der.kind));
      ctx.invalid.add(name);
    } else if (ctx.broken.targets.has(ref)) {
      ctx.invalid.add(name);
    } else if (!nameSet.has(ref)) {
      ctx.error('unknown-target', `\`${der.kind}\` names unknown target \`${ref}\`${didYouMean(ref, names)}`, ctx.valueAt('videos', name, der.kind));
      ctx.invalid.add(name);
    } else {
      ctx.sourceOf.set(name, ref);
    }
  }
}
