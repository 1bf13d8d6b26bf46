import type { CharacterVideoLimits } from '../core/character-video.js';
import type { Diagnostic, SourceLocation } from '../core/diagnostic.js';
import type { Character, CharacterName, ProjectPath, Target, TargetName } from './manifest.js';
import { widenCapabilities, type Capabilities } from './capabilities.js';
import { collectCharacters } from './checks/characters.js';
import { createContext, type CheckContext } from './checks/context.js';
import { derivation } from './checks/derivation.js';
import { checkOutDir, checkOutputs } from './checks/files.js';
import { checkNamesAndReferences } from './checks/names.js';
import { checkProvider } from './checks/provider.js';
import { checkDefaults } from './checks/sizes-and-seconds.js';
import { checkCycles } from './checks/sources-and-kinds.js';
import { resolveTargets } from './checks/targets.js';
import { checkProjectPath } from './path-safety.js';
import type { RawManifest } from './raw-manifest.js';
import type { ManifestLocator, PathSegment } from './locator.js';

export { describeCycle } from './checks/sources-and-kinds.js';

/**
 * The checks a JSON Schema cannot express: names, references and cycles,
 * capabilities of the model, extension and character limits, path safety and
 * output collisions. Pure: the disk checks (files exist, symlinks stay inside)
 * are listed in `fileChecks` for file-checks.ts to run.
 *
 * Each family of rules is a file under checks/, run in turn by `CHECKS`.
 * Every loop there is linear in the number of targets; hints that scan all
 * names ("did you mean") run only for the names that are wrong.
 */

/** A project file the manifest refers to, to be checked on disk. */
export interface FileCheck {
  readonly path: ProjectPath;
  /** The field in the user's terms: `input_reference`, `edit.file`, `characters.mascot.video`. */
  readonly field: string;
  /** Where the path is written; turned into a location only when there is a problem. */
  readonly at: readonly PathSegment[];
  /** For an `input_reference`: the video's size (`WIDTHxHEIGHT`) the image must have. */
  readonly imageOfSize?: string;
  /** For a video the API receives: what it must be (an MP4 to edit or extend, or one a character can be made from). */
  readonly video?: VideoRequirement;
}

export type VideoRequirement =
  | { readonly role: 'character'; readonly limits: CharacterVideoLimits }
  /** An edit's or extension's source (its length is a fact the semantic checks already used). */
  | { readonly role: 'source' };

export interface SemanticResult {
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
  readonly outDir: { readonly path: ProjectPath; readonly location: SourceLocation | undefined };
  readonly fileChecks: readonly FileCheck[];
  readonly characters: ReadonlyMap<CharacterName, Character>;
  /** Topologically ordered; complete only when `errors` is empty. */
  readonly targets: ReadonlyMap<TargetName, Target>;
}

/** Targets and characters the schema already refused: references to them are not errors again. */
export interface BrokenEntries {
  readonly targets: ReadonlySet<string>;
  readonly characters: ReadonlySet<string>;
}

/**
 * The local videos edits and extensions start from (`edit: { file }`,
 * `extend: { file }`) that are safe paths: the disk edge reads their length
 * before the semantic checks, which take it as a fact.
 */
export function sourceFilesOf(raw: RawManifest): ProjectPath[] {
  const out = new Set<ProjectPath>();
  for (const v of Object.values(raw.videos)) {
    const der = typeof v === 'object' && v !== null ? derivation(v) : undefined;
    if (der === undefined || der.kind === 'remix' || typeof der.source !== 'object' || der.source === null || typeof der.source.file !== 'string') continue;
    const checked = checkProjectPath(der.source.file);
    if (checked.ok) out.add(checked.path);
  }
  return [...out];
}

/** What the disk edge found out before the checks (facts, so the checks stay pure). */
export interface SemanticFacts {
  /** Length in whole seconds (as the API counts it) of each source file whose MP4 index says it. */
  readonly sourceFileSeconds?: ReadonlyMap<ProjectPath, number>;
}

/**
 * The checks in the order their diagnostics are reported (tests and users
 * rely on it): each reads what the ones before it put in the context.
 */
const CHECKS: readonly ((ctx: CheckContext) => void)[] = [
  checkProvider,
  checkOutDir,
  checkDefaults,
  collectCharacters,
  checkNamesAndReferences,
  checkCycles,
  resolveTargets,
  checkOutputs,
];

export function checkSemantics(
  raw: RawManifest,
  locator: ManifestLocator,
  base: Capabilities,
  broken: BrokenEntries = { targets: new Set(), characters: new Set() },
  facts: SemanticFacts = {},
): SemanticResult {
  const ctx = createContext(raw, locator, widenCapabilities(base, raw.provider?.capabilities), broken, facts);
  for (const check of CHECKS) check(ctx);
  const { errors, warnings, outDir, fileChecks, characters, targets } = ctx;
  return { errors, warnings, outDir: { path: outDir, location: raw.outDir === undefined ? undefined : ctx.valueAt('outDir') }, fileChecks, characters, targets };
}
