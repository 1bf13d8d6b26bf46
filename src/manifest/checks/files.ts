import { ASSET_VARIANTS, type AssetVariant, type InputReference, type ProjectPath } from '../manifest.js';
import { imageUrlProblem } from '../reference-url.js';
import { checkProjectPath } from '../path-safety.js';
import type { RawVideo } from '../raw-manifest.js';
import type { CheckContext } from './context.js';
import type { DerivedKind } from './derivation.js';

const OUTPUT_SUFFIX: Readonly<Record<AssetVariant, string>> = {
  video: '.mp4',
  thumbnail: '.thumbnail.webp',
  spritesheet: '.spritesheet.jpg',
};

/** `outDir`: a safe project path outside the folders vidbuild and git own. */
export function checkOutDir(ctx: CheckContext): void {
  const outDir = ctx.raw.outDir;
  if (outDir === undefined) return;
  const checked = checkProjectPath(outDir);
  const reserved = checked.ok ? reservedFolder(checked.path) : undefined;
  if (!checked.ok) ctx.error('unsafe-path', `\`outDir\` ${checked.reason} (got ${JSON.stringify(outDir)})`, ctx.valueAt('outDir'));
  else if (reserved !== undefined) ctx.error('reserved-path', `\`outDir\` ${checked.path} would write into ${reserved}; choose a folder of your own`, ctx.valueAt('outDir'));
  else ctx.outDir = checked.path;
}

/** Folders that belong to vidbuild or git: outputs written there would corrupt them (or be lost). */
function reservedFolder(p: ProjectPath): string | undefined {
  const top = p.split('/')[0]?.toLowerCase();
  if (top === '.vidbuild') return "vidbuild's own state folder (.vidbuild)";
  if (top === '.git') return "git's folder (.git)";
  return undefined;
}

export function normalizeAssets(assets: readonly AssetVariant[]): AssetVariant[] {
  // `video` is always materialized: thumbnails and spritesheets describe it.
  return ASSET_VARIANTS.filter((a) => a === 'video' || assets.includes(a));
}

export function outputsOf(outDir: ProjectPath, name: string, assets: readonly AssetVariant[]): Partial<Record<AssetVariant, ProjectPath>> {
  const outputs: Partial<Record<AssetVariant, ProjectPath>> = {};
  for (const a of assets) {
    const checked = checkProjectPath(outDir === '.' ? `${name}${OUTPUT_SUFFIX[a]}` : `${outDir}/${name}${OUTPUT_SUFFIX[a]}`);
    if (checked.ok) outputs[a] = checked.path;
  }
  return outputs;
}

/**
 * A generated video's `input_reference`. A local path must be safe, and its
 * image must have the video's size (the disk half checks it). An image URL
 * or a file id is sent as it is and never read here: nothing on disk is
 * looked at for it, so it joins no file check.
 */
export function checkInputReference(ctx: CheckContext, name: string, v: RawVideo, size: string): InputReference | undefined {
  const ref = v.input_reference;
  if (ref === undefined) return undefined;
  if (typeof ref !== 'string') {
    if ('file_id' in ref) return { type: 'file_id', fileId: ref.file_id };
    const problem = imageUrlProblem(ref.image_url);
    if (problem !== undefined) {
      ctx.error('bad-reference-url', `\`input_reference.image_url\` ${problem}`, ctx.valueAt('videos', name, 'input_reference', 'image_url'));
      return undefined;
    }
    return { type: 'image_url', url: ref.image_url, sha256: ref.sha256 };
  }
  // A URL written where a path goes: it would be looked for as a file (and `//` collapsed in the message).
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(ref)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    ctx.error('reference-url-as-path', `\`input_reference\` is a URL, but a plain string is a path to a local image; write it as \`input_reference: { image_url: URL }\``, ctx.valueAt('videos', name, 'input_reference'));
    return undefined;
  }
  if (scheme === 'data') {
    ctx.error('reference-data-url', '`input_reference` is a data: URL; save the image in the project and give its path (data: URLs are not sent)', ctx.valueAt('videos', name, 'input_reference'));
    return undefined;
  }
  const checked = checkProjectPath(ref);
  if (!checked.ok) {
    ctx.error('unsafe-path', `\`input_reference\` ${checked.reason} (got ${JSON.stringify(ref)})`, ctx.valueAt('videos', name, 'input_reference'));
    return undefined;
  }
  ctx.fileChecks.push({ path: checked.path, field: 'input_reference', at: ['videos', name, 'input_reference'], imageOfSize: size });
  return { type: 'file', path: checked.path };
}

/** `edit.file` or `extend.file`: a safe path, to a video the API can start from. */
export function checkSourceFile(ctx: CheckContext, name: string, kind: DerivedKind, file: string): ProjectPath | undefined {
  const checked = checkProjectPath(file);
  if (!checked.ok) {
    ctx.error('unsafe-path', `\`${kind}.file\` ${checked.reason} (got ${JSON.stringify(file)})`, ctx.valueAt('videos', name, kind, 'file'));
    return undefined;
  }
  ctx.fileChecks.push({ path: checked.path, field: `${kind}.file`, at: ['videos', name, kind, 'file'], video: { role: 'source' } });
  return checked.path;
}

/** Outputs must not collide, and no file the manifest reads may be one a target writes. */
export function checkOutputs(ctx: CheckContext): void {
  const byOutput = producers(ctx);
  for (const check of ctx.fileChecks) {
    const producer = byOutput.get(check.path.toLowerCase());
    if (producer !== undefined) {
      ctx.error(
        'input-is-output',
        `${check.field} ${check.path} is the output of target \`${producer.name}\`; derive from the target instead (e.g. \`edit: ${producer.name}\`)`,
        ctx.locator.valueOf(check.at),
      );
    }
  }
}

/** The target writing each output, reporting two that write the same one (lower-cased: they collide even on case-insensitive file systems). */
function producers(ctx: CheckContext): Map<string, { readonly name: string; readonly path: ProjectPath }> {
  const byOutput = new Map<string, { readonly name: string; readonly path: ProjectPath }>();
  for (const t of ctx.targets.values()) {
    for (const variant of t.assets) {
      const out = t.outputs[variant];
      if (out === undefined) continue;
      const key = out.toLowerCase();
      const other = byOutput.get(key);
      if (other !== undefined) {
        ctx.error('duplicate-output', `targets \`${other.name}\` and \`${t.name}\` both write ${out} (names differing only in case collide on macOS and Windows)`, t.location);
      } else {
        byOutput.set(key, { name: t.name, path: out });
      }
    }
  }
  return byOutput;
}
