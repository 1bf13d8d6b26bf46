import type { SourceLocation } from '../../core/diagnostic.js';
import { modelCapabilities, type Capabilities, type ExtensionLimits, type ModelCapabilities } from '../capabilities.js';
import { didYouMean } from '../did-you-mean.js';
import type { RawVideo } from '../raw-manifest.js';
import type { CheckContext } from './context.js';

/** `defaults.model`, `.size` and `.seconds`, checked once where they are written. */
export function checkDefaults(ctx: CheckContext): void {
  const d = ctx.raw.defaults ?? {};
  const { model, size, seconds } = ctx.defaults;
  const row = modelCapabilities(ctx.caps, model);
  if (row === undefined) {
    if (d.model !== undefined) ctx.error('unknown-model', unknownModelMessage(model, ctx.caps), ctx.valueAt('defaults', 'model'));
    return;
  }
  if (d.size !== undefined && !row.sizes.includes(size)) {
    ctx.error('unsupported-size', sizeMessage(model, size, row), ctx.valueAt('defaults', 'size'));
  }
  if (d.seconds !== undefined && !row.seconds.includes(seconds)) {
    ctx.error('unsupported-seconds', secondsMessage(seconds, row.seconds), ctx.valueAt('defaults', 'seconds'));
  }
}

/** Model, size and seconds of a target that sets its own (generated, or derived from a file). */
export function checkGenerated(ctx: CheckContext, name: string, v: RawVideo, checkSeconds = true): { model: string; size: string; seconds: number } {
  const model = v.model ?? ctx.defaults.model;
  const size = v.size ?? ctx.defaults.size;
  const seconds = v.seconds ?? ctx.defaults.seconds;
  const row = modelCapabilities(ctx.caps, model);
  const modelSet = v.model !== undefined;
  const modelAt = () => ctx.valueAt('videos', name, 'model');
  if (row === undefined) {
    // A bad default model was reported at `defaults`.
    if (modelSet) ctx.error('unknown-model', unknownModelMessage(model, ctx.caps), modelAt());
    return { model, size, seconds };
  }
  if (!row.sizes.includes(size)) {
    if (v.size !== undefined) ctx.error('unsupported-size', sizeMessage(model, size, row), ctx.valueAt('videos', name, 'size'));
    else if (modelSet) ctx.error('unsupported-size', `${model} does not support the default size ${size}; set \`size\` to one of ${row.sizes.join(', ')}`, modelAt());
  }
  if (checkSeconds && !row.seconds.includes(seconds)) {
    if (v.seconds !== undefined) ctx.error('unsupported-seconds', secondsMessage(seconds, row.seconds), ctx.valueAt('videos', name, 'seconds'));
    else if (modelSet) ctx.error('unsupported-seconds', `${model} does not support the default ${seconds} s; set \`seconds\` to one of ${row.seconds.join(', ')}`, modelAt());
  }
  return { model, size, seconds };
}

/** The seconds an extension adds: within the extension limits, and one the table or the model allows. */
export function checkExtensionSeconds(ctx: CheckContext, model: string, addSeconds: number, secondsAt: () => SourceLocation): void {
  const row = modelCapabilities(ctx.caps, model);
  const limits = ctx.caps.extension;
  // Extensions have durations of their own (4–20 s), besides any the model takes for a new video.
  const allowed = row === undefined ? undefined : extensionSeconds(limits, row.seconds);
  if (addSeconds > limits.maxSecondsEach || addSeconds < limits.minSecondsEach) {
    ctx.error('extension-seconds', `an extension adds ${limits.minSecondsEach} to ${limits.maxSecondsEach} s (got ${addSeconds})`, secondsAt());
  } else if (allowed !== undefined && !allowed.includes(addSeconds)) {
    // Worded apart from a new video's seconds: an inherited `defaults.seconds` can be wrong for both at one place.
    ctx.error('unsupported-seconds', `an extension adds one of ${allowed.join(', ')} s (got ${addSeconds})`, secondsAt());
  }
}

function unknownModelMessage(model: string, caps: Capabilities): string {
  const known = [...caps.models.keys()];
  return `unknown model \`${model}\`${didYouMean(model, known)} (known: ${known.join(', ')}; a provider that has it can add it under \`provider.capabilities.models\`)`;
}

function sizeMessage(model: string, size: string, row: ModelCapabilities): string {
  return `${model} does not support size ${size}; use one of ${row.sizes.join(', ')}`;
}

/** Durations an extension may add: the table's extension list and the model's own, within the limits. */
function extensionSeconds(limits: ExtensionLimits, modelSeconds: readonly number[]): number[] {
  return [...new Set([...limits.seconds, ...modelSeconds])].filter((s) => s >= limits.minSecondsEach && s <= limits.maxSecondsEach).sort((a, b) => a - b);
}

function secondsMessage(seconds: number, allowed: readonly number[]): string {
  return `seconds must be one of ${allowed.join(', ')} (got ${seconds})`;
}
