import type { AssetVariant, CharacterName, ProjectPath, Target, TargetName } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, LockedCharacter, LockedTarget, Sha256 } from '../lock/lockfile.js';
import type { Diagnostic } from '../core/diagnostic.js';

/**
 * The planner's output and the executor's input. A plan is data: it can be
 * printed (plan/render-plan.ts), serialized (`plan --json`) or executed.
 *
 * Steps are in dependency order (a source before its dependents).
 */

/** Facts about the disk, gathered by plan/disk-facts.ts (I/O) and fed to the pure planner. */
export interface DiskFacts {
  /** sha256 of every file the manifest references (input_reference, edit/extend files, character videos). */
  readonly fileHashes: ReadonlyMap<ProjectPath, Sha256>;
  /** What is at each output path the manifest or lockfile names; absent key or `undefined` = no file. */
  readonly outputs: ReadonlyMap<ProjectPath, { readonly bytes: number; readonly sha256: Sha256 } | undefined>;
  /** Variants present in the local content-addressed cache, per fingerprint. */
  readonly cache: ReadonlyMap<Fingerprint, ReadonlySet<AssetVariant>>;
  /**
   * Earlier completed jobs in the local cache, by the fingerprint they were
   * generated for (any target name). Lets the planner restore a reverted
   * prompt or a renamed target from the cache instead of paying again.
   * Filled on demand by plan/plan-project.ts (only fingerprints the plan asks about).
   */
  readonly cachedJobs?: ReadonlyMap<Fingerprint, CachedJob>;
  /**
   * Variants of a locked target whose locked bytes are in the team's remote
   * cache, per fingerprint: asked only for targets that would otherwise be
   * regenerated (their job expired and the local cache lacks them).
   */
  readonly remoteAssets?: ReadonlyMap<Fingerprint, ReadonlySet<AssetVariant>>;
  /**
   * Paid jobs the lockfile let go of before they reached the cache (an edit
   * made while they ran, then the run stopped), by fingerprint: a target
   * whose inputs are one of these again takes that job (plan/plan-project.ts
   * reads them from lock/obsolete-ledger.ts).
   */
  readonly obsoleteJobs?: ReadonlyMap<Fingerprint, LockedTarget>;
  /**
   * Characters created before under their name from the bytes their video
   * has now (the cache's `characters/<sha256>-<name>.json`, or the team's
   * remote's), by name: asked only for characters the lock does not hold
   * with those bytes. The executor takes that id again instead of creating
   * one (execute/character-runner.ts), so the plan shows it as a $0 reuse.
   */
  readonly knownCharacters?: ReadonlyMap<CharacterName, KnownCharacter>;
  /** The clock, so expiry decisions are reproducible in tests. */
  readonly now: Date;
  /** Problems met while gathering (e.g. an output that is a symlink out of the project); printed as warnings. */
  readonly warnings?: readonly Diagnostic[];
}

/**
 * What apply does with a target (DESIGN §5). `retry` resubmits a job that
 * failed with the same inputs; only on request (`--retry-failed`), because a
 * moderation failure usually fails again and every attempt is paid. Without
 * it such a target is `failed`: not attempted, its output stays missing, and
 * so do the outputs of the targets derived from it (also `failed`).
 */
export type Action =
  | 'create'
  | 'replace'
  | 'resume'
  | 'retry'
  | 'failed'
  | 'fetch'
  | 'regenerate'
  | 'unchanged'
  | 'orphan';

export const ACTIONS: readonly Action[] = [
  'create',
  'replace',
  'resume',
  'retry',
  'failed',
  'fetch',
  'regenerate',
  'unchanged',
  'orphan',
];

/** Actions that submit a paid job. */
export function isPaidAction(a: Action): a is 'create' | 'replace' | 'retry' | 'regenerate' {
  return a === 'create' || a === 'replace' || a === 'retry' || a === 'regenerate';
}

/** A completed job whose assets sit in the local cache, or in the team's remote cache (`where: 'remote'`). */
export interface CachedJob {
  readonly jobId: JobId;
  /** ISO time the job was created. */
  readonly createdAt: string;
  readonly variants: ReadonlySet<AssetVariant>;
  readonly where?: 'remote';
}

/** A character once created from a video with these bytes, as the local cache (or, `where: 'remote'`, the team's remote) remembers it. */
export interface KnownCharacter {
  readonly fileSha256: Sha256;
  readonly characterId: CharacterId;
  /** ISO time the character was created. */
  readonly createdAt: string;
  readonly where?: 'remote';
}

/**
 * How one missing asset will be restored: `cache` (the local cache),
 * `remote-cache` (the team's shared cache, `remote:`), `remote` (a download
 * of the job from the API), `generate` (a new, paid job).
 */
export interface AssetRestore {
  readonly variant: AssetVariant;
  readonly path: ProjectPath;
  readonly from: 'cache' | 'remote-cache' | 'remote' | 'generate';
}

export interface TargetStep {
  readonly action: Exclude<Action, 'orphan'>;
  readonly name: TargetName;
  readonly target: Target;
  /**
   * Fingerprint of the target's inputs. When a source target will get a new
   * job in this run, the source's job id is not known yet, so this is
   * provisional (computed from the source's fingerprint) and the executor
   * recomputes it once the source completes.
   */
  readonly fingerprint: Fingerprint;
  readonly provisional: boolean;
  /**
   * Human reason, e.g. "prompt changed", "not in the lockfile", "job video_… failed: moderation_blocked".
   * For `failed`: the locked job's error code and message, or `source NAME failed`.
   */
  readonly reason: string;
  /** For `replace`: the inputs that changed (`prompt`, `seconds`, `input_reference`, `source intro`…). */
  readonly changes: readonly string[];
  /** For a `replace` whose prompt changed: the prompt the lock's job was made from, and the new one. */
  readonly promptChange?: { readonly from: string; readonly to: string };
  /** Estimated USD this step spends (0 for resume/fetch/unchanged). */
  readonly cost: number;
  /**
   * Set when the price table has no price for this model/size: `cost` is 0
   * but the step does spend money (the plan carries a warning too).
   */
  readonly unpriced?: true;
  /** Assets to restore for `fetch` (and what `regenerate` will produce). */
  readonly restores: readonly AssetRestore[];
  /**
   * Set when the target's current inputs were generated before (this or another
   * name, e.g. a reverted prompt): a `fetch` that adopts this cached job into the
   * lock and restores its assets from the cache, with no API call.
   */
  readonly fromCache?: CachedJob;
  /** Lock entry as it was when planning (undefined for `create`); for a rename, the old name's. */
  readonly locked: LockedTarget | undefined;
  /**
   * The name whose lock entry this target takes over: same inputs under a new
   * name (its intent, running job or outputs follow the inputs). The executor
   * copies the entry to the new name before acting; prune removes the old one.
   */
  readonly renamedFrom?: TargetName;
  /**
   * `locked` is a job of an earlier edit with these inputs, from the
   * obsolete ledger (lock/obsolete-ledger.ts), not the lock's entry: the
   * executor makes it the target's entry before acting.
   */
  readonly fromObsolete?: JobId;
  /** Targets this one waits for. */
  readonly dependsOn: readonly TargetName[];
}

export interface OrphanStep {
  readonly action: 'orphan';
  readonly name: TargetName;
  readonly reason: string;
  readonly cost: 0;
  readonly locked: LockedTarget;
}

export type PlanStep = TargetStep | OrphanStep;

/**
 * What apply does with a character. create: never uploaded; replace: its
 * video changed; resume: an intent is recorded (created again: characters
 * cannot be looked up); unchanged: its id is locked; orphan: in the lock
 * only. A `fetch` is a character created before from the bytes its video has
 * now (a reverted video, a fresh clone of a team's project): that id is taken
 * again, for $0 and with no upload.
 */
export type CharacterStep = CharacterChange | CharacterReuse;

export interface CharacterChange {
  readonly name: CharacterName;
  readonly action: 'create' | 'replace' | 'resume' | 'unchanged' | 'orphan';
  readonly reason: string;
  readonly fileSha256: Sha256 | undefined;
  readonly locked: LockedCharacter | undefined;
}

export interface CharacterReuse {
  readonly name: CharacterName;
  readonly action: 'fetch';
  readonly reason: string;
  readonly fileSha256: Sha256;
  readonly locked: LockedCharacter | undefined;
  /** The character this one becomes again; its id is in the fingerprints of the videos planned with it. */
  readonly reuses: KnownCharacter;
}

export interface PlanSummary {
  readonly counts: Readonly<Record<Action, number>>;
  /** Sum of step costs, USD. Leaves out the unpriced steps: never read it alone as the whole cost. */
  readonly cost: number;
  /**
   * Paid steps whose model/size has no known price (`$?`): not in `cost`,
   * and not $0 either, so a budget cannot bound them.
   */
  readonly unpriced: number;
  /** Date of the price table the estimate used (YYYY-MM-DD). */
  readonly priceTableDate: string;
}

export interface Plan {
  readonly steps: readonly PlanStep[];
  readonly characters: readonly CharacterStep[];
  readonly summary: PlanSummary;
  /** Things the user should know that do not stop planning (unpriced model/size, unhashed file). */
  readonly warnings?: readonly Diagnostic[];
}

/**
 * True when applying the plan would change anything (for `--detailed-exitcode`).
 * A `failed` step changes nothing: apply leaves it as it is (and exits 1).
 */
export function planHasChanges(plan: Plan): boolean {
  return (
    plan.steps.some((s) => s.action !== 'unchanged' && s.action !== 'orphan' && s.action !== 'failed') ||
    plan.characters.some((c) => c.action !== 'unchanged' && c.action !== 'orphan')
  );
}
