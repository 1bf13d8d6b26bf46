import type { SourceLocation } from '../core/diagnostic.js';

/**
 * The validated, resolved model of a `videos.yaml`. Produced by
 * `loadManifest` (manifest/load-manifest.ts); consumed by the planner and the
 * executor. Everything here is already checked: references resolve, the DAG
 * has no cycles, paths stay inside the project, defaults are applied.
 *
 * Paths are POSIX-style and relative to `projectDir` (the manifest's folder).
 */

/** A target's stable identity: its key under `videos:`. Safe as a file name. */
export type TargetName = string & { readonly __brand: 'TargetName' };
/** A character's key under `characters:`. */
export type CharacterName = string & { readonly __brand: 'CharacterName' };
/** A project-relative POSIX path that has been checked not to escape the project. */
export type ProjectPath = string & { readonly __brand: 'ProjectPath' };

export type AssetVariant = 'video' | 'thumbnail' | 'spritesheet';
export const ASSET_VARIANTS: readonly AssetVariant[] = ['video', 'thumbnail', 'spritesheet'];

/** Where a target's content comes from when it derives from something else. */
export type SourceRef =
  | { readonly type: 'target'; readonly name: TargetName }
  | { readonly type: 'file'; readonly path: ProjectPath };

interface TargetCommon {
  readonly name: TargetName;
  readonly prompt: string;
  /** Effective model/size (inherited from the source for derived targets). */
  readonly model: string;
  readonly size: string;
  /**
   * Seconds of the *result*: for `generate` the requested duration, for
   * `remix`/`edit` the source's duration, for `extend` the stitched total
   * (source total + `addSeconds`). A source that is a local file counts
   * with its length read from its MP4 index (whole seconds, as the API counts
   * an upload); only when the file does not say (a fragmented MP4), an edit
   * takes the manifest's `seconds` (or the default) and an extension counts the file as 0 s.
   */
  readonly seconds: number;
  /** Variants to materialize; always contains at least `video`. */
  readonly assets: readonly AssetVariant[];
  /** Output path per materialized variant. */
  readonly outputs: Readonly<Partial<Record<AssetVariant, ProjectPath>>>;
  readonly characters: readonly CharacterName[];
  /** Where the target's key is in the manifest, for messages. */
  readonly location: SourceLocation;
}

/**
 * The image a generated video starts from. A local file is hashed by
 * content and uploaded; an image URL or an uploaded file's id is sent as it
 * is (JSON `input_reference: {image_url}` / `{file_id}`) and never read by
 * vidbuild, so its identity is the URL or id itself, plus the `sha256` the
 * manifest pins for a URL whose content may change.
 */
export type InputReference =
  | { readonly type: 'file'; readonly path: ProjectPath }
  | { readonly type: 'image_url'; readonly url: string; readonly sha256: string | undefined }
  | { readonly type: 'file_id'; readonly fileId: string };

/** The form an `input_reference` is sent in: what a request records and a fingerprint hashes for one that is not a local file. */
export type RemoteReference = { readonly image_url: string; readonly sha256?: string } | { readonly file_id: string };

export interface GenerateTarget extends TargetCommon {
  readonly kind: 'generate';
  readonly inputReference: InputReference | undefined;
}
export interface RemixTarget extends TargetCommon {
  readonly kind: 'remix';
  /** Remix only applies to a completed video of another target. */
  readonly source: { readonly type: 'target'; readonly name: TargetName };
}
export interface EditTarget extends TargetCommon {
  readonly kind: 'edit';
  readonly source: SourceRef;
}
export interface ExtendTarget extends TargetCommon {
  readonly kind: 'extend';
  readonly source: SourceRef;
  /** Seconds of new footage requested (the API's `seconds` on /videos/extensions). */
  readonly addSeconds: number;
}

export type Target = GenerateTarget | RemixTarget | EditTarget | ExtendTarget;
export type TargetKind = Target['kind'];

export interface Character {
  readonly name: CharacterName;
  readonly video: ProjectPath;
  readonly location: SourceLocation;
}

export interface ProviderConfig {
  /** Without its query: that is in `query`. */
  readonly baseURL: string | undefined;
  /** Name of the environment variable holding the key (never the key itself). */
  readonly apiKeyEnv: string | undefined;
  /**
   * The header the key is sent in instead of `Authorization: Bearer` (Azure
   * OpenAI: `api-key`); undefined for Bearer.
   */
  readonly apiKeyHeader: string | undefined;
  /** Extra headers on every request; never credentials (checked at load). */
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters on every request: `provider.query` and the base URL's own query. */
  readonly query: Readonly<Record<string, string>>;
}

/** `remote:`: where the team's shared cache and lock live. Credentials are never here. */
export interface ManifestRemote {
  /** `s3://bucket/prefix`, checked at load. */
  readonly url: string;
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly pathStyle: boolean | undefined;
}

export interface Manifest {
  /** Absolute path of the manifest file. */
  readonly file: string;
  /** Absolute path of the folder holding it: the project root. Nothing escapes it. */
  readonly projectDir: string;
  readonly version: 1;
  readonly outDir: ProjectPath;
  readonly concurrency: number | undefined;
  /** `retryFailed: true`: failed targets are retried on every apply, as with --retry-failed (default false). */
  readonly retryFailed: boolean;
  readonly provider: ProviderConfig | undefined;
  readonly remote: ManifestRemote | undefined;
  /** `pricing:`: USD per second by model and size, over the shipped price table (empty when none). */
  readonly pricing: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly characters: ReadonlyMap<CharacterName, Character>;
  /** Targets in topological order: every source precedes its dependents. */
  readonly targets: ReadonlyMap<TargetName, Target>;
}

/** The target this one derives from, if it derives from another target. */
export function sourceTargetOf(t: Target): TargetName | undefined {
  if (t.kind === 'generate') return undefined;
  return t.source.type === 'target' ? t.source.name : undefined;
}

/** A generated target's reference when it is a URL or a file id (never read from disk), as sent. */
export function remoteReferenceOf(t: Target): RemoteReference | undefined {
  if (t.kind !== 'generate' || t.inputReference === undefined) return undefined;
  const ref = t.inputReference;
  switch (ref.type) {
    case 'file':
      return undefined;
    case 'image_url':
      return ref.sha256 === undefined ? { image_url: ref.url } : { image_url: ref.url, sha256: ref.sha256 };
    case 'file_id':
      return { file_id: ref.fileId };
  }
}

/** Every project file whose content determines this target (hashed into its fingerprint). */
export function referencedFilesOf(t: Target): readonly ProjectPath[] {
  switch (t.kind) {
    case 'generate':
      return t.inputReference?.type === 'file' ? [t.inputReference.path] : [];
    case 'remix':
      return [];
    case 'edit':
    case 'extend':
      return t.source.type === 'file' ? [t.source.path] : [];
  }
}
