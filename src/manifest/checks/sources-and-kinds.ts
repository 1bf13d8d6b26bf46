import type { AssetVariant, CharacterName, ProjectPath, SourceRef, Target, TargetName } from '../manifest.js';
import type { SourceLocation } from '../../core/diagnostic.js';
import { dependencyOrder } from '../dependency-order.js';
import type { RawVideo } from '../raw-manifest.js';
import { isTargetName } from '../safe-name.js';
import type { CheckContext } from './context.js';
import { article, derivation, type Derivation } from './derivation.js';
import { checkSourceFile } from './files.js';
import { checkExtensionSeconds, checkGenerated } from './sizes-and-seconds.js';

/** What every target has before its kind is known. */
export interface TargetBase {
  readonly name: TargetName;
  readonly prompt: string;
  readonly assets: readonly AssetVariant[];
  readonly outputs: Partial<Record<AssetVariant, ProjectPath>>;
  readonly characters: readonly CharacterName[];
  readonly location: SourceLocation;
}

/** Extensions in the chain ending at each resolved target (a remix or edit of an extension carries them). */
export type ExtensionCounts = Map<string, number>;

/** What a derived target takes from its source. */
interface ResolvedSource {
  readonly source: SourceRef;
  readonly model: string;
  readonly size: string;
  readonly sourceSeconds: number | undefined;
  readonly priorExtensions: number;
}

/** Orders the targets sources first, reporting each cycle at its first target's reference. */
export function checkCycles(ctx: CheckContext): void {
  const videos = ctx.raw.videos;
  const graph = dependencyOrder(Object.keys(videos), (n) => ctx.sourceOf.get(n));
  for (const cycle of graph.cycles) {
    const head = cycle[0];
    const v = head === undefined ? undefined : videos[head];
    const der = v === undefined ? undefined : derivation(v);
    if (head === undefined || der === undefined) continue;
    ctx.error('cycle', describeCycle(cycle), ctx.valueAt('videos', head, der.kind));
  }
  ctx.order = graph.order;
}

/** Names of a cycle shown before the rest is counted: a cycle through 20,000 targets made a 189 KB line. */
const CYCLE_NAMES_SHOWN = 10;

/** `cycle: a -> b -> a (each derives from the next)`; a long one as its first names and a count. */
export function describeCycle(cycle: readonly string[]): string {
  const members = cycle.slice(0, -1);
  const head = cycle[0] ?? '';
  if (members.length <= CYCLE_NAMES_SHOWN) return `cycle: ${cycle.join(' -> ')} (each derives from the next)`;
  const shown = members.slice(0, CYCLE_NAMES_SHOWN).join(' -> ');
  return `cycle of ${members.length} targets: ${shown} -> … and ${members.length - CYCLE_NAMES_SHOWN} more -> ${head} (each derives from the next)`;
}

/** A remix, edit or extension; undefined when its source has errors of its own. */
export function derivedTarget(ctx: CheckContext, v: RawVideo, der: Derivation, base: TargetBase, counts: ExtensionCounts): Target | undefined {
  const resolved = resolveSource(ctx, v, der, base.name, counts);
  if (resolved === undefined) return undefined;
  return der.kind === 'extend' ? extendTarget(ctx, v, base, resolved, counts) : remixOrEditTarget(ctx, v, der, base, resolved, counts);
}

/** Derived from a file or from another target. */
function resolveSource(ctx: CheckContext, v: RawVideo, der: Derivation, name: TargetName, counts: ExtensionCounts): ResolvedSource | undefined {
  if (typeof der.source === 'string') {
    const src = isTargetName(der.source) ? ctx.targets.get(der.source) : undefined;
    // A source with its own errors: this target's checks would only repeat them.
    if (src === undefined || !isTargetName(der.source)) return undefined;
    if (v.model !== undefined && v.model !== src.model) {
      ctx.error('derived-model', `\`model\` of ${article(der.kind)} must match its source \`${der.source}\` (${src.model}); the API uses the source's model, remove \`model\``, ctx.valueAt('videos', name, 'model'));
    }
    if (v.size !== undefined && v.size !== src.size) {
      ctx.error('derived-size', `\`size\` of ${article(der.kind)} must match its source \`${der.source}\` (${src.size}); the API keeps the source's size, remove \`size\``, ctx.valueAt('videos', name, 'size'));
    }
    const source: SourceRef = { type: 'target', name: der.source };
    return { source, model: src.model, size: src.size, sourceSeconds: src.seconds, priorExtensions: counts.get(der.source) ?? 0 };
  }
  if (der.kind === 'remix') return undefined; // the schema already refused a file for remix
  const path = checkSourceFile(ctx, name, der.kind, der.source.file);
  if (path === undefined) return undefined;
  // The file's own length, when its MP4 index says it: an edit keeps it, an extension adds to it.
  const sourceSeconds = ctx.facts.sourceFileSeconds?.get(path);
  const m = checkGenerated(ctx, name, v, false);
  return { source: { type: 'file', path }, model: m.model, size: m.size, sourceSeconds, priorExtensions: 0 };
}

function remixOrEditTarget(ctx: CheckContext, v: RawVideo, der: Derivation, base: TargetBase, resolved: ResolvedSource, counts: ExtensionCounts): Target {
  const { source, model, size, sourceSeconds, priorExtensions } = resolved;
  const { name } = base;
  let seconds = sourceSeconds ?? v.seconds ?? ctx.defaults.seconds;
  if (source.type === 'file' && sourceSeconds !== undefined && v.seconds !== undefined && v.seconds !== sourceSeconds) {
    // Once the only way to say a file's length (for the price); a warning, so such manifests still load.
    const message = `an edit keeps the duration of its source ${source.path} (${sourceSeconds} s), so \`seconds: ${v.seconds}\` is ignored; remove it`;
    ctx.warn('derived-seconds', message, ctx.valueAt('videos', name, 'seconds'));
  } else if (sourceSeconds !== undefined && v.seconds !== undefined && v.seconds !== sourceSeconds) {
    ctx.error(
      'derived-seconds',
      `${article(der.kind)} keeps the duration of its source \`${String(der.source)}\` (${sourceSeconds} s); remove \`seconds\` (or use \`extend\` to make it longer)`,
      ctx.valueAt('videos', name, 'seconds'),
    );
    seconds = sourceSeconds;
  }
  // The API counts a remix or edit of an extended video as extended
  // already (the emulator does the same): extending it later continues the count.
  if (priorExtensions > 0) counts.set(name, priorExtensions);
  const common = { ...base, model, size };
  if (der.kind === 'remix' && source.type === 'target') return { kind: 'remix', ...common, seconds, source };
  return { kind: 'edit', ...common, seconds, source };
}

function extendTarget(ctx: CheckContext, v: RawVideo, base: TargetBase, resolved: ResolvedSource, counts: ExtensionCounts): Target {
  const { source, model, size, sourceSeconds, priorExtensions } = resolved;
  const { name } = base;
  const addSeconds = v.seconds ?? ctx.defaults.seconds;
  // Located only when reported: looking up nodes for every target would cost more than the check.
  const secondsAt = () =>
    v.seconds !== undefined ? ctx.valueAt('videos', name, 'seconds') : ctx.raw.defaults?.seconds !== undefined ? ctx.valueAt('defaults', 'seconds') : ctx.keyAt('videos', name, 'extend');
  checkExtensionSeconds(ctx, model, addSeconds, secondsAt);
  const limits = ctx.caps.extension;
  const count = priorExtensions + 1;
  counts.set(name, count);
  const total = (sourceSeconds ?? 0) + addSeconds;
  // A target source already too long has its own error; a file has no other place to get one.
  const sourceOver = source.type === 'target' && (sourceSeconds ?? 0) > limits.maxTotalSeconds;
  if (count > limits.maxCount && count === limits.maxCount + 1) {
    ctx.error('extension-chain', `extension chain too long: ${extensionChain(ctx, name, counts)} has ${count} extensions (at most ${limits.maxCount})`, ctx.valueAt('videos', name, 'extend'));
  } else if (total > limits.maxTotalSeconds && !sourceOver) {
    const what = source.type === 'file' ? `${source.path} (${sourceSeconds ?? 0} s)` : `\`${source.name}\``;
    ctx.error('extension-total', `extending ${what} by ${addSeconds} s makes \`${name}\` ${total} s long (at most ${limits.maxTotalSeconds} s)`, secondsAt());
  }
  return { kind: 'extend', ...base, model, size, seconds: total, source, addSeconds };
}

function extensionChain(ctx: CheckContext, name: string, counts: ExtensionCounts): string {
  const chain = [name];
  // Back through every source that carries extensions (a remix or edit of an extension does).
  let current = ctx.sourceOf.get(name);
  while (current !== undefined) {
    chain.unshift(current);
    if ((counts.get(current) ?? 0) === 0) break;
    current = ctx.sourceOf.get(current);
  }
  return chain.join(' -> ');
}
