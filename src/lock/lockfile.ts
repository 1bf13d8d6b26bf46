import type { AssetVariant, CharacterName, ProjectPath, RemoteReference, TargetName, TargetKind } from '../manifest/manifest.js';

/**
 * The lockfile (`videos.lock`, JSON, next to the manifest) records what was
 * paid for: per target the fingerprint it was generated for, the job id, its
 * last known status and the assets materialized from it. It is committed to
 * git, so serialization is deterministic (sorted keys, stable formatting).
 *
 * Schema: schemas/videos.lock.schema.json. Reading and writing live in
 * lock/read-lockfile.ts and lock/write-lockfile.ts.
 */
export const LOCKFILE_VERSION = 1;

/** `sha256:<64 hex>` of canonical target inputs. */
export type Fingerprint = string & { readonly __brand: 'Fingerprint' };
/** Lower-case 64-hex sha256 of a file's bytes. */
export type Sha256 = string & { readonly __brand: 'Sha256' };
/** A job id from the API (`video_…`). */
export type JobId = string & { readonly __brand: 'JobId' };
/** A character id from the API (`char_…`). */
export type CharacterId = string & { readonly __brand: 'CharacterId' };

/** Statuses the SDK knows; anything else seen from a provider is kept verbatim and treated as terminal. */
export type KnownJobStatus = 'queued' | 'in_progress' | 'completed' | 'failed';
export type JobStatus = KnownJobStatus | (string & {});

export function isTerminalStatus(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'in_progress';
}

export interface LockedAsset {
  readonly path: ProjectPath;
  readonly bytes: number;
  readonly sha256: Sha256;
}

/**
 * What exactly was asked of the API, recorded *before* the paid call so a
 * crash between "request sent" and "id saved" can be reconciled against
 * `videos.list` instead of paying twice.
 */
export interface JobRequest {
  readonly kind: TargetKind;
  readonly prompt: string;
  readonly model: string;
  readonly size: string;
  /** Seconds as sent to the API (for `extend`: the added seconds). */
  readonly seconds: number;
  /** Source job id for remix / edit / extend of another target. */
  readonly sourceJobId?: JobId;
  /** sha256 of the uploaded source / reference file, if any. */
  readonly uploadSha256?: Sha256;
  /** An `input_reference` sent as a URL or a file id, as the manifest gave it (with its pinned sha256, if any). */
  readonly inputReference?: RemoteReference;
  /** Character ids sent with the request, in manifest order. */
  readonly characterIds?: readonly CharacterId[];
}

/** A paid call was about to be made; no id was heard back yet. */
export interface IntentState {
  readonly state: 'intent';
  /** ISO time just before the call; reconcile matches jobs created at or after it (with slack). */
  readonly intentAt: string;
  readonly request: JobRequest;
  /**
   * Jobs this entry held before the intent (a --replace, a retry of a failed
   * job). They match the request too, and were made just before it: never
   * adopted as what the interrupted call created.
   */
  readonly supersedes?: readonly JobId[];
}

/** The API returned a job id. */
export interface JobState {
  readonly state: 'job';
  readonly jobId: JobId;
  readonly status: JobStatus;
  /** Last progress heard (0–100) while queued / in progress; shown by `plan` for resumable jobs. */
  readonly progress?: number;
  readonly request: JobRequest;
  readonly createdAt: string;
  readonly completedAt?: string;
  readonly expiresAt?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface LockedTarget {
  readonly kind: TargetKind;
  readonly fingerprint: Fingerprint;
  readonly model: string;
  readonly size: string;
  /** Seconds of the result. */
  readonly seconds: number;
  /** Source target name for derived targets (for orphan/graph reporting). */
  readonly source?: TargetName;
  readonly job: IntentState | JobState;
  /** Materialized assets, per variant. */
  readonly assets: Readonly<Partial<Record<AssetVariant, LockedAsset>>>;
  readonly updatedAt: string;
}

export interface LockedCharacter {
  /** sha256 of the uploaded video file. */
  readonly fileSha256: Sha256;
  readonly video: ProjectPath;
  readonly job:
    | { readonly state: 'intent'; readonly intentAt: string }
    | { readonly state: 'created'; readonly characterId: CharacterId; readonly createdAt: string };
}

export interface Lockfile {
  readonly lockfileVersion: typeof LOCKFILE_VERSION;
  readonly characters: Readonly<Record<CharacterName, LockedCharacter>>;
  readonly videos: Readonly<Record<TargetName, LockedTarget>>;
}

export function emptyLockfile(): Lockfile {
  return { lockfileVersion: LOCKFILE_VERSION, characters: {}, videos: {} };
}

/** The job ids the lock's targets hold as their own job (not intents, not sources). */
export function lockedJobIds(lock: Lockfile): Set<string> {
  const ids = new Set<string>();
  for (const t of Object.values(lock.videos)) if (t.job.state === 'job') ids.add(t.job.jobId);
  return ids;
}
