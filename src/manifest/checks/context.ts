import { errorDiagnostic, type Diagnostic, type SourceLocation } from '../../core/diagnostic.js';
import type { Capabilities } from '../capabilities.js';
import { checkProjectPath } from '../path-safety.js';
import type { AssetVariant, Character, CharacterName, ProjectPath, Target, TargetName } from '../manifest.js';
import type { ManifestLocator, PathSegment } from '../locator.js';
import type { RawManifest } from '../raw-manifest.js';
import type { BrokenEntries, FileCheck, SemanticFacts } from '../semantic-checks.js';

/** Model, size, seconds and assets a target gets when it does not set its own. */
export interface ResolvedDefaults {
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  readonly assets: readonly AssetVariant[];
}

/**
 * What the semantic checks share while they run, in the order they fill it:
 * the inputs, the sinks diagnostics go to (in the order users read them), and
 * what earlier checks found that later ones build on. One per checked
 * manifest, never kept.
 */
export interface CheckContext {
  readonly raw: RawManifest;
  readonly caps: Capabilities;
  readonly broken: BrokenEntries;
  readonly facts: SemanticFacts;
  readonly locator: ManifestLocator;
  readonly defaults: ResolvedDefaults;

  readonly errors: Diagnostic[];
  readonly warnings: Diagnostic[];
  readonly fileChecks: FileCheck[];
  error(code: string, message: string, location: SourceLocation): void;
  warn(code: string, message: string, location: SourceLocation): void;
  keyAt(...p: PathSegment[]): SourceLocation;
  valueAt(...p: PathSegment[]): SourceLocation;

  /** `videos` unless `outDir` is set and safe. */
  outDir: ProjectPath;
  readonly characters: Map<CharacterName, Character>;
  /** Characters whose own entry has an error: the videos listing them are not told again that they are unknown. */
  readonly badCharacters: Set<string>;
  /** The target each derived target starts from, when that reference is valid. */
  readonly sourceOf: Map<string, string>;
  /** Targets whose own reference is wrong: resolved no further (their errors are already reported). */
  readonly invalid: Set<string>;
  /** Target names, sources before what derives from them. */
  order: readonly string[];
  /** Topologically ordered; complete only when `errors` is empty. */
  readonly targets: Map<TargetName, Target>;
}

export function createContext(raw: RawManifest, locator: ManifestLocator, caps: Capabilities, broken: BrokenEntries, facts: SemanticFacts): CheckContext {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const d = raw.defaults ?? {};
  return {
    raw,
    caps,
    broken,
    facts,
    locator,
    defaults: { model: d.model ?? caps.defaults.model, size: d.size ?? caps.defaults.size, seconds: d.seconds ?? caps.defaults.seconds, assets: d.assets ?? ['video'] },
    errors,
    warnings,
    fileChecks: [],
    error: (code, message, location) => {
      errors.push(errorDiagnostic(code, message, location));
    },
    warn: (code, message, location) => {
      warnings.push({ code, severity: 'warning', message, location });
    },
    keyAt: (...p) => locator.keyOf(p),
    valueAt: (...p) => locator.valueOf(p),
    outDir: checkedDefaultOutDir(),
    characters: new Map(),
    badCharacters: new Set(broken.characters),
    sourceOf: new Map(),
    invalid: new Set(),
    order: [],
    targets: new Map(),
  };
}

function checkedDefaultOutDir(): ProjectPath {
  const checked = checkProjectPath('videos');
  if (!checked.ok) throw new Error('default outDir is not a project path');
  return checked.path;
}
