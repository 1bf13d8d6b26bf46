import type { CharacterVideoLimits } from '../core/character-video.js';
import { errorDiagnostic, type Diagnostic, type SourceLocation } from '../core/diagnostic.js';
import {
  ASSET_VARIANTS,
  type AssetVariant,
  type Character,
  type CharacterName,
  type ProjectPath,
  type SourceRef,
  type Target,
  type TargetName,
} from './manifest.js';
import { modelCapabilities, widenCapabilities, type Capabilities, type ExtensionLimits, type ModelCapabilities } from './capabilities.js';
import { dependencyOrder } from './dependency-order.js';
import { didYouMean } from './did-you-mean.js';
import { checkProjectPath } from './path-safety.js';
import { apiKeyHeaderProblem, baseUrlProblem, extraHeaderProblem, splitBaseUrl } from './provider-checks.js';
import type { RawManifest, RawSource, RawVideo } from './raw-manifest.js';
import { badCharacterNameReason, isCharacterName, isTargetName, unsafeNameReason } from './safe-name.js';
import type { ManifestLocator, PathSegment } from './locator.js';

/**
 * The checks a JSON Schema cannot express: names, references and cycles,
 * capabilities of the model, extension and character limits, path safety and
 * output collisions. Pure: the disk checks (files exist, symlinks stay inside)
 * are listed in `fileChecks` for file-checks.ts to run.
 *
 * Every loop here is linear in the number of targets; hints that scan all
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

type DerivedKind = 'remix' | 'extend' | 'edit';

const OUTPUT_SUFFIX: Readonly<Record<AssetVariant, string>> = {
  video: '.mp4',
  thumbnail: '.thumbnail.webp',
  spritesheet: '.spritesheet.jpg',
};

function derivation(v: RawVideo): { kind: DerivedKind; source: RawSource } | undefined {
  if (v.remix !== undefined) return { kind: 'remix', source: v.remix };
  if (v.extend !== undefined) return { kind: 'extend', source: v.extend };
  if (v.edit !== undefined) return { kind: 'edit', source: v.edit };
  return undefined;
}

function verb(kind: DerivedKind): string {
  switch (kind) {
    case 'remix':
      return 'remix';
    case 'extend':
      return 'extend';
    case 'edit':
      return 'edit';
  }
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

export function checkSemantics(
  raw: RawManifest,
  locator: ManifestLocator,
  base: Capabilities,
  broken: BrokenEntries = { targets: new Set(), characters: new Set() },
  facts: SemanticFacts = {},
): SemanticResult {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const fileChecks: FileCheck[] = [];
  const error = (code: string, message: string, location: SourceLocation): void => {
    errors.push(errorDiagnostic(code, message, location));
  };
  const keyAt = (...p: PathSegment[]) => locator.keyOf(p);
  const valueAt = (...p: PathSegment[]) => locator.valueOf(p);

  const caps = widenCapabilities(base, raw.provider?.capabilities);
  const knownModels = [...caps.models.keys()];

  const baseURL = raw.provider?.baseURL;
  const urlProblem = baseURL === undefined ? undefined : baseUrlProblem(baseURL);
  if (urlProblem !== undefined) error('bad-base-url', `\`baseURL\` ${urlProblem}`, valueAt('provider', 'baseURL'));
  checkProviderHeaders(raw.provider, error, keyAt, valueAt);
  for (const [model, sizes] of Object.entries(raw.pricing ?? {})) {
    for (const size of Object.keys(sizes)) {
      if (!/^\d{2,5}x\d{2,5}$/.test(size)) error('bad-size', `price size \`${size}\` for ${model} must be WIDTHxHEIGHT, e.g. 1280x720`, keyAt('pricing', model, size));
    }
  }

  // outDir
  let outDir = checkedDefaultOutDir();
  if (raw.outDir !== undefined) {
    const checked = checkProjectPath(raw.outDir);
    const reserved = checked.ok ? reservedFolder(checked.path) : undefined;
    if (!checked.ok) error('unsafe-path', `\`outDir\` ${checked.reason} (got ${JSON.stringify(raw.outDir)})`, valueAt('outDir'));
    else if (reserved !== undefined) error('reserved-path', `\`outDir\` ${checked.path} would write into ${reserved}; choose a folder of your own`, valueAt('outDir'));
    else outDir = checked.path;
  }

  // defaults, checked once where they are written
  const d = raw.defaults ?? {};
  const defModel = d.model ?? caps.defaults.model;
  const defSize = d.size ?? caps.defaults.size;
  const defSeconds = d.seconds ?? caps.defaults.seconds;
  const defAssets = d.assets ?? ['video'];
  const defRow = modelCapabilities(caps, defModel);
  if (defRow === undefined) {
    if (d.model !== undefined) error('unknown-model', unknownModelMessage(defModel, knownModels), valueAt('defaults', 'model'));
  } else {
    if (d.size !== undefined && !defRow.sizes.includes(defSize)) {
      error('unsupported-size', sizeMessage(defModel, defSize, defRow), valueAt('defaults', 'size'));
    }
    if (d.seconds !== undefined && !defRow.seconds.includes(defSeconds)) {
      error('unsupported-seconds', secondsMessage(defSeconds, defRow.seconds), valueAt('defaults', 'seconds'));
    }
  }

  // characters
  const characters = new Map<CharacterName, Character>();
  /** Characters whose own entry has an error: the videos listing them are not told again that they are unknown. */
  const badCharacters = new Set<string>(broken.characters);
  for (const [name, c] of Object.entries(raw.characters ?? {})) {
    const reason = badCharacterNameReason(name);
    if (reason !== undefined || !isCharacterName(name)) {
      error('bad-character-name', `character name \`${name}\` ${reason ?? 'is not valid'}`, keyAt('characters', name));
      badCharacters.add(name);
      continue;
    }
    const checked = checkProjectPath(c.video);
    if (!checked.ok) {
      error('unsafe-path', `\`video\` of character \`${name}\` ${checked.reason} (got ${JSON.stringify(c.video)})`, valueAt('characters', name, 'video'));
      badCharacters.add(name);
      continue;
    }
    const location = keyAt('characters', name);
    characters.set(name, { name, video: checked.path, location });
    fileChecks.push({ path: checked.path, field: `video of character \`${name}\``, at: ['characters', name, 'video'], video: { role: 'character', limits: caps.characterVideo } });
  }

  // names and references
  const videos = raw.videos;
  const names = Object.keys(videos);
  const nameSet = new Set(names);
  const sourceOf = new Map<string, string>();
  /** Targets whose own reference is wrong: resolved no further (their errors are already reported). */
  const invalid = new Set<string>();
  for (const name of names) {
    const v = videos[name];
    if (v === undefined) continue;
    const reason = unsafeNameReason(name);
    if (reason !== undefined) {
      error('unsafe-name', `target name \`${name}\` ${reason}; it becomes the output file name`, keyAt('videos', name));
      invalid.add(name);
    }
    const der = derivation(v);
    if (der === undefined || typeof der.source !== 'string') continue;
    const ref = der.source;
    if (ref === name) {
      error('self-reference', `\`${name}\` cannot ${verb(der.kind)} itself`, valueAt('videos', name, der.kind));
      invalid.add(name);
    } else if (broken.targets.has(ref)) {
      invalid.add(name);
    } else if (!nameSet.has(ref)) {
      error('unknown-target', `\`${der.kind}\` names unknown target \`${ref}\`${didYouMean(ref, names)}`, valueAt('videos', name, der.kind));
      invalid.add(name);
    } else {
      sourceOf.set(name, ref);
    }
  }

  const targetKeys = locator.keyLocations(['videos']);
  const graph = dependencyOrder(names, (n) => sourceOf.get(n));
  for (const cycle of graph.cycles) {
    const head = cycle[0];
    const v = head === undefined ? undefined : videos[head];
    const der = v === undefined ? undefined : derivation(v);
    if (head === undefined || der === undefined) continue;
    error('cycle', describeCycle(cycle), valueAt('videos', head, der.kind));
  }

  // Resolve in dependency order so derived targets can inherit from resolved sources.
  const targets = new Map<TargetName, Target>();
  /** Extensions in the chain ending at each resolved extend target. */
  const extensionCount = new Map<string, number>();
  const byOutput = new Map<string, { readonly name: string; readonly path: ProjectPath }>();

  for (const name of graph.order) {
    const v = videos[name];
    if (v === undefined || invalid.has(name) || !isTargetName(name)) continue;
    const der = derivation(v);
    const location = targetKeys.get(name) ?? keyAt('videos', name);
    const assets = normalizeAssets(v.assets ?? defAssets);
    const outputs = outputsOf(outDir, name, assets);
    const chars = checkCharacters(name, v, der?.kind);

    if (der === undefined) {
      const m = checkGenerated(name, v);
      let inputReference: ProjectPath | undefined;
      if (v.input_reference !== undefined) {
        const checked = checkProjectPath(v.input_reference);
        if (checked.ok) {
          inputReference = checked.path;
          fileChecks.push({ path: checked.path, field: 'input_reference', at: ['videos', name, 'input_reference'], imageOfSize: m.size });
        } else {
          error('unsafe-path', `\`input_reference\` ${checked.reason} (got ${JSON.stringify(v.input_reference)})`, valueAt('videos', name, 'input_reference'));
        }
      }
      targets.set(name, { kind: 'generate', name, prompt: v.prompt, ...m, assets, outputs, characters: chars, location, inputReference });
      continue;
    }

    // Derived from a file or from another target.
    let source: SourceRef;
    let model: string;
    let size: string;
    let sourceSeconds: number | undefined;
    let priorExtensions = 0;
    if (typeof der.source === 'string') {
      const src = isTargetName(der.source) ? targets.get(der.source) : undefined;
      // A source with its own errors: this target's checks would only repeat them.
      if (src === undefined || !isTargetName(der.source)) continue;
      source = { type: 'target', name: der.source };
      model = src.model;
      size = src.size;
      sourceSeconds = src.seconds;
      priorExtensions = extensionCount.get(der.source) ?? 0;
      if (v.model !== undefined && v.model !== model) {
        error('derived-model', `\`model\` of ${article(der.kind)} must match its source \`${der.source}\` (${model}); the API uses the source's model, remove \`model\``, valueAt('videos', name, 'model'));
      }
      if (v.size !== undefined && v.size !== size) {
        error('derived-size', `\`size\` of ${article(der.kind)} must match its source \`${der.source}\` (${size}); the API keeps the source's size, remove \`size\``, valueAt('videos', name, 'size'));
      }
    } else {
      if (der.kind === 'remix') continue; // the schema already refused a file for remix
      const checked = checkProjectPath(der.source.file);
      if (!checked.ok) {
        error('unsafe-path', `\`${der.kind}.file\` ${checked.reason} (got ${JSON.stringify(der.source.file)})`, valueAt('videos', name, der.kind, 'file'));
        continue;
      }
      source = { type: 'file', path: checked.path };
      // The file's own length, when its MP4 index says it: an edit keeps it, an extension adds to it.
      sourceSeconds = facts.sourceFileSeconds?.get(checked.path);
      fileChecks.push({ path: checked.path, field: `${der.kind}.file`, at: ['videos', name, der.kind, 'file'], video: { role: 'source' } });
      const m = checkGenerated(name, v, false);
      model = m.model;
      size = m.size;
    }

    const common = { name, prompt: v.prompt, model, size, assets, outputs, characters: chars, location };
    switch (der.kind) {
      case 'remix':
      case 'edit': {
        let seconds = sourceSeconds ?? v.seconds ?? defSeconds;
        if (source.type === 'file' && sourceSeconds !== undefined && v.seconds !== undefined && v.seconds !== sourceSeconds) {
          // Once the only way to say a file's length (for the price); a warning, so such manifests still load.
          warnings.push({
            code: 'derived-seconds',
            severity: 'warning',
            message: `an edit keeps the duration of its source ${source.path} (${sourceSeconds} s), so \`seconds: ${v.seconds}\` is ignored; remove it`,
            location: valueAt('videos', name, 'seconds'),
          });
        } else if (sourceSeconds !== undefined && v.seconds !== undefined && v.seconds !== sourceSeconds) {
          error(
            'derived-seconds',
            `${article(der.kind)} keeps the duration of its source \`${String(der.source)}\` (${sourceSeconds} s); remove \`seconds\` (or use \`extend\` to make it longer)`,
            valueAt('videos', name, 'seconds'),
          );
          seconds = sourceSeconds;
        }
        // The API counts a remix or edit of an extended video as extended
        // already (the emulator does the same): extending it later continues the count.
        if (priorExtensions > 0) extensionCount.set(name, priorExtensions);
        if (der.kind === 'remix' && source.type === 'target') {
          targets.set(name, { kind: 'remix', ...common, seconds, source });
        } else {
          targets.set(name, { kind: 'edit', ...common, seconds, source });
        }
        break;
      }
      case 'extend': {
        const addSeconds = v.seconds ?? defSeconds;
        // Located only when reported: looking up nodes for every target would cost more than the check.
        const secondsAt = () =>
          v.seconds !== undefined ? valueAt('videos', name, 'seconds') : d.seconds !== undefined ? valueAt('defaults', 'seconds') : keyAt('videos', name, 'extend');
        const row = modelCapabilities(caps, model);
        const limits = caps.extension;
        // Extensions have durations of their own (4–20 s), besides any the model takes for a new video.
        const allowed = row === undefined ? undefined : extensionSeconds(limits, row.seconds);
        if (addSeconds > limits.maxSecondsEach || addSeconds < limits.minSecondsEach) {
          error('extension-seconds', `an extension adds ${limits.minSecondsEach} to ${limits.maxSecondsEach} s (got ${addSeconds})`, secondsAt());
        } else if (allowed !== undefined && !allowed.includes(addSeconds)) {
          error('unsupported-seconds', secondsMessage(addSeconds, allowed), secondsAt());
        }
        const count = priorExtensions + 1;
        extensionCount.set(name, count);
        const total = (sourceSeconds ?? 0) + addSeconds;
        // A target source already too long has its own error; a file has no other place to get one.
        const sourceOver = source.type === 'target' && (sourceSeconds ?? 0) > limits.maxTotalSeconds;
        if (count > limits.maxCount && count === limits.maxCount + 1) {
          error('extension-chain', `extension chain too long: ${extensionChain(name)} has ${count} extensions (at most ${limits.maxCount})`, valueAt('videos', name, 'extend'));
        } else if (total > limits.maxTotalSeconds && !sourceOver) {
          const what = source.type === 'file' ? `${source.path} (${sourceSeconds ?? 0} s)` : `\`${source.name}\``;
          error('extension-total', `extending ${what} by ${addSeconds} s makes \`${name}\` ${total} s long (at most ${limits.maxTotalSeconds} s)`, secondsAt());
        }
        targets.set(name, { kind: 'extend', ...common, seconds: total, source, addSeconds });
        break;
      }
    }
  }

  // Outputs must not collide, even on case-insensitive file systems.
  for (const t of targets.values()) {
    for (const variant of t.assets) {
      const out = t.outputs[variant];
      if (out === undefined) continue;
      const key = out.toLowerCase();
      const other = byOutput.get(key);
      if (other !== undefined) {
        error('duplicate-output', `targets \`${other.name}\` and \`${t.name}\` both write ${out} (names differing only in case collide on macOS and Windows)`, t.location);
      } else {
        byOutput.set(key, { name: t.name, path: out });
      }
    }
  }
  for (const check of fileChecks) {
    const producer = byOutput.get(check.path.toLowerCase());
    if (producer !== undefined) {
      error(
        'input-is-output',
        `${check.field} ${check.path} is the output of target \`${producer.name}\`; derive from the target instead (e.g. \`edit: ${producer.name}\`)`,
        locator.valueOf(check.at),
      );
    }
  }

  return { errors, warnings, outDir: { path: outDir, location: raw.outDir === undefined ? undefined : valueAt('outDir') }, fileChecks, characters, targets };

  // --- helpers (closures over the manifest being checked) ---

  function extensionChain(name: string): string {
    const chain = [name];
    // Back through every source that carries extensions (a remix or edit of an extension does).
    let current = sourceOf.get(name);
    while (current !== undefined) {
      chain.unshift(current);
      if ((extensionCount.get(current) ?? 0) === 0) break;
      current = sourceOf.get(current);
    }
    return chain.join(' -> ');
  }

  /** Model, size and seconds of a target that sets its own (generated, or derived from a file). */
  function checkGenerated(name: string, v: RawVideo, checkSeconds = true): { model: string; size: string; seconds: number } {
    const model = v.model ?? defModel;
    const size = v.size ?? defSize;
    const seconds = v.seconds ?? defSeconds;
    const row = modelCapabilities(caps, model);
    const modelSet = v.model !== undefined;
    const modelAt = () => valueAt('videos', name, 'model');
    if (row === undefined) {
      // A bad default model was reported at `defaults`.
      if (modelSet) error('unknown-model', unknownModelMessage(model, knownModels), modelAt());
      return { model, size, seconds };
    }
    if (!row.sizes.includes(size)) {
      if (v.size !== undefined) error('unsupported-size', sizeMessage(model, size, row), valueAt('videos', name, 'size'));
      else if (modelSet) error('unsupported-size', `${model} does not support the default size ${size}; set \`size\` to one of ${row.sizes.join(', ')}`, modelAt());
    }
    if (checkSeconds && !row.seconds.includes(seconds)) {
      if (v.seconds !== undefined) error('unsupported-seconds', secondsMessage(seconds, row.seconds), valueAt('videos', name, 'seconds'));
      else if (modelSet) error('unsupported-seconds', `${model} does not support the default ${seconds} s; set \`seconds\` to one of ${row.seconds.join(', ')}`, modelAt());
    }
    return { model, size, seconds };
  }

  function checkCharacters(name: string, v: RawVideo, kind: DerivedKind | undefined): CharacterName[] {
    const list = v.characters ?? [];
    if (list.length === 0) return [];
    if (kind === 'extend') {
      error('characters-on-extension', 'an extension cannot use `characters` (the API refuses them); characters carry over from the source video', keyAt('videos', name, 'characters'));
      return [];
    }
    if (kind !== undefined) {
      // Remix and edit requests have no characters field: the list would be dropped while the plan waited for it.
      error('characters-on-derived', `${article(kind)} cannot use \`characters\` (the API takes them only when generating a new video); characters carry over from the source video`, keyAt('videos', name, 'characters'));
      return [];
    }
    if (list.length > caps.maxCharactersPerVideo) {
      error('too-many-characters', `a video may use at most ${caps.maxCharactersPerVideo} characters (got ${list.length})`, valueAt('videos', name, 'characters'));
    }
    const out: CharacterName[] = [];
    list.forEach((c, i) => {
      const known = isCharacterName(c) ? characters.get(c)?.name : undefined;
      if (known === undefined) {
        if (badCharacters.has(c)) return;
        const defined = Object.keys(raw.characters ?? {});
        const hint = defined.length === 0 ? '; define it under top-level `characters:`' : didYouMean(c, defined);
        error('unknown-character', `unknown character \`${c}\`${hint}`, valueAt('videos', name, 'characters', i));
        return;
      }
      out.push(known);
      if (!v.prompt.includes(c)) {
        warnings.push({
          code: 'character-not-in-prompt',
          severity: 'warning',
          message: `the prompt of \`${name}\` never mentions character \`${c}\`${nearMention(v.prompt, c)}; the API needs the name verbatim in the prompt`,
          location: valueAt('videos', name, 'characters', i),
        });
      }
    });
    return out;
  }
}

/**
 * When the prompt says the name in a spelling the API would not match: other
 * letter case, or the same letters in another Unicode form (an accent typed
 * as a separate combining mark, as some macOS tools write it).
 */
function nearMention(prompt: string, name: string): string {
  const nfc = name.normalize('NFC');
  const text = prompt.normalize('NFC');
  if (text.includes(nfc)) return ' as written (it is there with its accents encoded differently)';
  const lower = text.toLowerCase();
  const at = lower.indexOf(nfc.toLowerCase());
  // Lower-casing can change the length (e.g. 'İ'): quote only when positions still line up.
  if (at >= 0 && lower.length === text.length) return ` (it says \`${text.slice(at, at + nfc.length)}\`)`;
  return '';
}

function article(kind: DerivedKind): string {
  return kind === 'extend' ? 'an extension' : kind === 'edit' ? 'an edit' : 'a remix';
}

/** Folders that belong to vidbuild or git: outputs written there would corrupt them (or be lost). */
function reservedFolder(p: ProjectPath): string | undefined {
  const top = p.split('/')[0]?.toLowerCase();
  if (top === '.vidbuild') return "vidbuild's own state folder (.vidbuild)";
  if (top === '.git') return "git's folder (.git)";
  return undefined;
}

function checkedDefaultOutDir(): ProjectPath {
  const checked = checkProjectPath('videos');
  if (!checked.ok) throw new Error('default outDir is not a project path');
  return checked.path;
}

function normalizeAssets(assets: readonly AssetVariant[]): AssetVariant[] {
  // `video` is always materialized: thumbnails and spritesheets describe it.
  return ASSET_VARIANTS.filter((a) => a === 'video' || assets.includes(a));
}

function outputsOf(outDir: ProjectPath, name: string, assets: readonly AssetVariant[]): Partial<Record<AssetVariant, ProjectPath>> {
  const outputs: Partial<Record<AssetVariant, ProjectPath>> = {};
  for (const a of assets) {
    const checked = checkProjectPath(outDir === '.' ? `${name}${OUTPUT_SUFFIX[a]}` : `${outDir}/${name}${OUTPUT_SUFFIX[a]}`);
    if (checked.ok) outputs[a] = checked.path;
  }
  return outputs;
}

function unknownModelMessage(model: string, known: readonly string[]): string {
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

/**
 * `provider.apiKeyHeader`, `provider.headers` and `provider.query`: names
 * HTTP accepts, no credential committed in a header, and one value per
 * query parameter (a `?api-version=` in baseURL and another in `query`
 * would leave the reader guessing which is sent).
 */
function checkProviderHeaders(
  provider: RawManifest['provider'],
  error: (code: string, message: string, location: SourceLocation) => void,
  keyAt: (...p: PathSegment[]) => SourceLocation,
  valueAt: (...p: PathSegment[]) => SourceLocation,
): void {
  if (provider === undefined) return;
  const header = provider.apiKeyHeader;
  const headerProblem = header === undefined ? undefined : apiKeyHeaderProblem(header);
  if (headerProblem !== undefined) error('bad-header', `\`apiKeyHeader\` ${headerProblem}`, valueAt('provider', 'apiKeyHeader'));
  for (const [name, value] of Object.entries(provider.headers ?? {})) {
    const problem = extraHeaderProblem(name, value, header);
    if (problem !== undefined) error('bad-header', `header \`${name}\` ${problem}`, keyAt('provider', 'headers', name));
  }
  if (provider.baseURL !== undefined && provider.query !== undefined && baseUrlProblem(provider.baseURL) === undefined) {
    const inUrl = splitBaseUrl(provider.baseURL).query;
    for (const name of Object.keys(provider.query)) {
      if (Object.hasOwn(inUrl, name)) error('duplicate-query', `query parameter \`${name}\` is also in \`baseURL\`; give it in one place`, keyAt('provider', 'query', name));
    }
  }
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
