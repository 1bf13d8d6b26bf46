import path from 'node:path';
import { realpath } from 'node:fs/promises';
import { characterVideoProblem } from '../core/character-video.js';
import { errorDiagnostic, type Diagnostic, type SourceLocation } from '../core/diagnostic.js';
import { unreachable } from '../core/unreachable.js';
import type { ProjectPath } from './manifest.js';
import { locateInProject, nearestExistingInside, reservedTopOf } from './path-safety.js';
import { probeReferenceImage, type ImageFormat, type ReferenceImage } from './reference-image.js';
import type { FileCheck, VideoRequirement } from './semantic-checks.js';
import { wholeSeconds } from '../core/mp4-header.js';
import { probeVideoFile, type VideoKind } from './video-file.js';
import type { ManifestLocator } from './locator.js';

/**
 * The disk half of validation: referenced files exist, are files, and do not
 * leave the project through a symlink; `outDir` does not either; an
 * `input_reference` is a JPEG, PNG or WebP image of the video's size, and an
 * edit's or extension's `file` an MP4 short enough to extend (the API refuses
 * anything else, after the run has started). Each distinct path is resolved
 * once, all in parallel; each image or video is probed once (headers only).
 * Returns errors and warnings (by severity).
 */
export async function checkFilesOnDisk(
  projectDir: string,
  fileChecks: readonly FileCheck[],
  outDir: { readonly path: ProjectPath; readonly location: SourceLocation | undefined },
  locator: ManifestLocator,
  probed: ReadonlyMap<ProjectPath, ProbedVideo> = new Map(),
  /** This manifest's lockfile (`videos.lock`), which outDir must not be. */
  lockfile?: ProjectPath,
): Promise<Diagnostic[]> {
  const manifestLocation: SourceLocation = { file: locator.file, line: 1, col: 1 };
  const projectReal = await realpath(projectDir);
  const unique = [...new Set(fileChecks.map((c) => c.path))];
  const found = new Map(
    await Promise.all(unique.map(async (p) => [p, await locateInProject(projectDir, projectReal, p)] as const)),
  );
  const images = probeImages(fileChecks, found);
  const videos = probeVideos(fileChecks, found, probed);
  const out: Diagnostic[] = [];
  for (const check of fileChecks) {
    const where = found.get(check.path);
    switch (where?.kind) {
      case 'file':
        if (check.imageOfSize !== undefined) {
          const problem = imageProblem(check, check.imageOfSize, images.get(check.path));
          if (problem !== undefined) out.push({ ...problem, location: locator.valueOf(check.at) });
        }
        if (check.video !== undefined) {
          const problem = videoProblem(check, check.video, videos.get(check.path));
          if (problem !== undefined) out.push({ ...problem, location: locator.valueOf(check.at) });
        }
        break;
      case 'missing':
      case undefined:
        out.push(errorDiagnostic('missing-file', `${check.field}: file not found: ${check.path}`, locator.valueOf(check.at)));
        break;
      case 'directory':
        out.push(errorDiagnostic('not-a-file', `${check.field}: ${check.path} is a directory, not a file`, locator.valueOf(check.at)));
        break;
      case 'special':
        out.push(errorDiagnostic('not-a-file', `${check.field}: ${check.path} is not a regular file (a pipe, socket or device)`, locator.valueOf(check.at)));
        break;
      case 'outside':
        out.push(errorDiagnostic('unsafe-path', `${check.field}: ${check.path} leads outside the project directory through a symlink`, locator.valueOf(check.at)));
        break;
    }
  }
  const outDirProblem = await outDirCheck(projectDir, projectReal, outDir.path, lockfile);
  if (outDirProblem !== undefined) out.push({ ...outDirProblem, location: outDir.location ?? manifestLocation });
  return out;
}

/** `.git` or `.vidbuild` when the nearest existing folder of `rel` really is in one of them. */
async function reservedByRealPath(projectDir: string, projectReal: string, rel: ProjectPath): Promise<string | undefined> {
  for (let current = path.join(projectDir, rel); ; current = path.dirname(current)) {
    const real = await realpath(current).catch(() => undefined);
    if (real !== undefined) return reservedTopOf(projectReal, real);
    if (path.dirname(current) === current) return undefined;
  }
}

/**
 * `outDir` must be a folder that can be made: not the lockfile (which a run
 * writes before its first output, so the folder could never be made), not
 * under a file, not a file. Found at validate time, not as `EEXIST` after
 * the jobs are paid for.
 */
async function outDirCheck(projectDir: string, projectReal: string, dir: ProjectPath, lockfile: ProjectPath | undefined): Promise<Diagnostic | undefined> {
  if (lockfile !== undefined && (dir === lockfile || dir.startsWith(`${lockfile}/`))) {
    return errorDiagnostic('not-a-directory', `\`outDir\` ${dir} is ${dir === lockfile ? "this manifest's lockfile" : `inside this manifest's lockfile ${lockfile}`}; outputs need a folder (e.g. outDir: videos)`);
  }
  const found = await nearestExistingInside(projectDir, projectReal, dir);
  switch (found.kind) {
    case 'folder': {
      const reserved = await reservedByRealPath(projectDir, projectReal, dir);
      return reserved === undefined ? undefined : errorDiagnostic('reserved-out-dir', `\`outDir\` ${dir} leads into ${reserved} through a symlink; vidbuild never writes outputs there`);
    }
    case 'outside':
      return errorDiagnostic('unsafe-path', `\`outDir\` ${dir} leads outside the project directory through a symlink`);
    case 'in-the-way': {
      const what = found.regularFile ? 'a file' : 'a pipe, socket or device';
      return found.at === dir
        ? errorDiagnostic('not-a-directory', `\`outDir\` ${dir} is ${what}, not a directory`)
        : errorDiagnostic('not-a-directory', `\`outDir\` ${dir}: ${found.at} is ${what}, not a directory`);
    }
    default:
      return unreachable(found);
  }
}

type Probed = ReferenceImage | { readonly kind: 'unreadable'; readonly code: string };

/** Header of every image-checked file that is a file inside the project (its real path, never a link out). */
function probeImages(
  fileChecks: readonly FileCheck[],
  found: ReadonlyMap<ProjectPath, Awaited<ReturnType<typeof locateInProject>>>,
): Map<ProjectPath, Probed> {
  const todo: { rel: ProjectPath; real: string }[] = [];
  const seen = new Set<ProjectPath>();
  for (const c of fileChecks) {
    const where = found.get(c.path);
    if (c.imageOfSize === undefined || where?.kind !== 'file' || seen.has(c.path)) continue;
    seen.add(c.path);
    todo.push({ rel: c.path, real: where.real });
  }
  const out = new Map<ProjectPath, Probed>();
  for (const job of todo) {
    try {
      out.set(job.rel, probeReferenceImage(job.real));
    } catch (e: unknown) {
      const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'error';
      out.set(job.rel, { kind: 'unreadable', code });
    }
  }
  return out;
}

export type ProbedVideo = VideoKind | { readonly kind: 'unreadable'; readonly code: string };

/** Each video-checked file that is a file inside the project, probed once (through its real path). */
function probeVideos(
  fileChecks: readonly FileCheck[],
  found: ReadonlyMap<ProjectPath, Awaited<ReturnType<typeof locateInProject>>>,
  probed: ReadonlyMap<ProjectPath, ProbedVideo>,
): Map<ProjectPath, ProbedVideo> {
  const out = new Map<ProjectPath, ProbedVideo>();
  for (const c of fileChecks) {
    const where = found.get(c.path);
    if (c.video === undefined || where?.kind !== 'file' || out.has(c.path)) continue;
    out.set(c.path, probed.get(c.path) ?? probeVideo(where.real));
  }
  return out;
}

function probeVideo(real: string): ProbedVideo {
  try {
    return probeVideoFile(real);
  } catch (e: unknown) {
    const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'error';
    return { kind: 'unreadable', code };
  }
}

/**
 * The edit and extension source files, read before the semantic checks (their
 * length is a fact those checks use: an edit keeps it, an extension adds to it,
 * the plan prices it). Files missing, outside the project or not regular are
 * left out; `checkFilesOnDisk` reports them.
 */
export async function probeSourceVideos(projectDir: string, paths: readonly ProjectPath[]): Promise<Map<ProjectPath, ProbedVideo>> {
  const out = new Map<ProjectPath, ProbedVideo>();
  if (paths.length === 0) return out;
  const projectReal = await realpath(projectDir);
  await Promise.all(
    paths.map(async (p) => {
      const where = await locateInProject(projectDir, projectReal, p);
      if (where.kind === 'file') out.set(p, probeVideo(where.real));
    }),
  );
  return out;
}

/** Whole seconds of each probed MP4 that says its length, as the API counts an upload (rounded, at least 1). */
export function sourceSeconds(probed: ReadonlyMap<ProjectPath, ProbedVideo>): Map<ProjectPath, number> {
  const out = new Map<ProjectPath, number>();
  for (const [p, v] of probed) if (v.kind === 'mp4' && v.seconds !== undefined) out.set(p, wholeSeconds(v.seconds));
  return out;
}

/** What is wrong with a video the API will receive, as a diagnostic without location; undefined when nothing is. */
function videoProblem(check: FileCheck, need: VideoRequirement, video: ProbedVideo | undefined): Omit<Diagnostic, 'location'> | undefined {
  const file = `${check.field} ${check.path}`;
  if (video === undefined) return undefined;
  switch (video.kind) {
    case 'unreadable':
      return errorDiagnostic('unreadable-file', `${check.field}: cannot read ${check.path} (${video.code})`);
    case 'other':
      return errorDiagnostic('unsupported-video', `${file} is ${video.what === undefined ? 'not' : `${video.what}, not`} an MP4 video (the API takes only MP4)`);
    case 'no-video':
      return errorDiagnostic('unsupported-video', `${file} is an MP4 without a video track (audio only?); the API needs a video`);
    case 'damaged':
      return errorDiagnostic('damaged-video', `${file} starts like an MP4 video but its index (moov) cannot be read (damaged or cut short)`);
    case 'mp4': {
      if (need.role === 'character') {
        const problem = characterVideoProblem(video, need.limits);
        return problem === undefined ? undefined : errorDiagnostic('character-video', `${file} ${problem}`);
      }
      return undefined;
    }
  }
}

const EXTENSIONS: Readonly<Record<ImageFormat, readonly string[]>> = {
  PNG: ['.png'],
  JPEG: ['.jpg', '.jpeg'],
  WebP: ['.webp'],
};

/** What is wrong with a reference image, as a diagnostic without location; undefined when nothing is. */
function imageProblem(check: FileCheck, size: string, image: Probed | undefined): Omit<Diagnostic, 'location'> | undefined {
  const file = `${check.field} ${check.path}`;
  if (image === undefined) return undefined;
  switch (image.kind) {
    case 'unreadable':
      return errorDiagnostic('unreadable-file', `${check.field}: cannot read ${check.path} (${image.code})`);
    case 'other':
      return errorDiagnostic('unsupported-image', `${file} is ${image.what === undefined ? 'not' : `${image.what}, not`} a JPEG, PNG or WebP image (the API takes only those)`);
    case 'damaged':
      return errorDiagnostic('damaged-image', `${file} starts like a ${image.format} image but its size cannot be read (damaged or cut short)`);
    case 'image': {
      const actual = `${image.width}x${image.height}`;
      if (/^\d+x\d+$/.test(size) && actual !== size) {
        return errorDiagnostic('reference-size', `${file} is ${actual} but the video's size is ${size} (the API refuses a reference of another size)`);
      }
      const names = EXTENSIONS[image.format];
      if (!names.includes(path.posix.extname(check.path).toLowerCase())) {
        // The executor sends the MIME type its file name implies (application/octet-stream when none).
        return {
          code: 'reference-extension',
          severity: 'warning',
          message: `${file} is a ${image.format} image; name it ${names.join(' or ')} (the upload's type is taken from the file name, and the API may refuse a mismatch)`,
        };
      }
      return undefined;
    }
  }
}
