import type { Diagnostic } from '../core/diagnostic.js';
import { unreachable } from '../core/unreachable.js';
import type { AssetVariant, Character, CharacterName, Manifest, ProjectPath, Target, TargetName } from '../manifest/manifest.js';
import { referencedFilesOf, sourceTargetOf } from '../manifest/manifest.js';
import type {
  CharacterId,
  Fingerprint,
  JobId,
  JobRequest,
  JobState,
  LockedCharacter,
  LockedTarget,
  Lockfile,
  Sha256,
} from '../lock/lockfile.js';
import type { Action, AssetRestore, CachedJob, CharacterStep, DiskFacts, KnownCharacter, OrphanStep, Plan, PlanStep, TargetStep } from './plan.js';
import { isPaidAction } from './plan.js';
import { fingerprintTarget, requestedSeconds, type CharacterIdentity, type SourceIdentity } from './fingerprint.js';
import { buildJobRequest } from './job-request.js';
import { defaultPriceTable, pricePerSecond, roundCents, type PriceTable } from './pricing.js';
import { charactersOf, selectTargets } from './target-selection.js';
import { isCharacterKey, isTargetKey, sha256Of } from '../lock/lock-names.js';
import { lockfileNameForManifest } from '../lock/lockfile-path.js';

export interface PlanOptions {
  /** Plan only these targets and their sources (transitively). Unknown names are ignored: the CLI checks them. */
  readonly targets?: readonly TargetName[] | undefined;
  /** Force these targets to get a new job even when up to date. */
  readonly replace?: readonly TargetName[] | undefined;
  /** Defaults to data/pricing.json. */
  readonly priceTable?: PriceTable | undefined;
  /**
   * Resubmit targets whose locked job failed with the inputs they have now
   * (`retry`). Off by default: they are `failed`, so an unattended
   * `apply --yes` does not pay for the same failure on every run. The
   * manifest's `retryFailed: true` turns it on too.
   */
  readonly retryFailed?: boolean | undefined;
}

/** A provider's error message in a reason: long enough to say what happened, short enough for one plan line. */
const ERROR_MESSAGE_SHOWN = 160;

/** Stand-in hash for a referenced file the facts do not cover (the plan warns about it). */
const UNHASHED = '0'.repeat(64);

/** What the planner knows about a target once decided, for its dependents. */
interface Decided {
  readonly fingerprint: Fingerprint;
  readonly action: Exclude<Action, 'orphan'>;
  /** The job its dependents derive from, when it is known and kept. */
  readonly keptJobId: JobId | undefined;
}

/** Per character: how targets refer to it in their fingerprint. */
interface CharacterDecision {
  readonly identity: CharacterIdentity;
  /** False while the `char_…` id is not known yet (created or replaced in this run). */
  readonly final: boolean;
  readonly action: CharacterStep['action'];
}

/**
 * The plan: a pure function of (manifest, lockfile, disk facts) — DESIGN §5.
 * Every target gets exactly one action, in the manifest's topological order,
 * so a source is always decided before its dependents and its decision
 * cascades: a source that gets a new job makes each dependent a `replace` (or
 * `create`) with a provisional fingerprint. One pass, O(targets + lock entries).
 */
export function planBuild(manifest: Manifest, lock: Lockfile, facts: DiskFacts, options: PlanOptions = {}): Plan {
  const table = options.priceTable ?? defaultPriceTable();
  const warnings: Diagnostic[] = [];
  const narrowed = options.targets !== undefined;
  const selected = narrowed ? selectTargets(manifest, options.targets ?? []) : undefined;
  const forced = new Set<TargetName>(options.replace ?? []);
  const retryFailed = options.retryFailed === true || manifest.retryFailed;
  const nowMs = facts.now.getTime();
  // Reasons name the lock as the user sees it: `ads.yaml` keeps its jobs in `ads.lock`.
  const lockName = lockfileNameForManifest(manifest.file);

  const fileHash = (path: ProjectPath, what: string): Sha256 => {
    const sha = facts.fileHashes.get(path);
    if (sha !== undefined) return sha;
    warnings.push({ code: 'file-not-hashed', severity: 'warning', message: `${what}: ${path} could not be read; planned as changed` });
    return unhashed();
  };

  // Characters first: targets need their identities.
  const characterSteps: CharacterStep[] = [];
  const characterDecisions = new Map<CharacterName, CharacterDecision>();
  const usedCharacters = selected === undefined ? undefined : charactersOf(manifest, selected);
  for (const character of manifest.characters.values()) {
    if (usedCharacters !== undefined && !usedCharacters.has(character.name)) continue;
    const locked = ownEntry(lock.characters, character.name);
    const step = planCharacter(character, locked, lockName, fileHash(character.video, `character ${character.name}`), facts.knownCharacters?.get(character.name));
    characterSteps.push(step);
    characterDecisions.set(character.name, decideCharacter(step));
  }

  const targetNames = new Set<string>(manifest.targets.keys());
  const characterNames = new Set<string>(manifest.characters.keys());
  /** Locked entries no longer in the manifest, by job id: a cache hit on one of those jobs is a rename. */
  const goneByJob = new Map<JobId, TargetName>();
  for (const name of Object.keys(lock.videos)) {
    const entry = ownEntry(lock.videos, name);
    if (entry?.job.state === 'job' && !targetNames.has(name) && isTargetKey(name) && !goneByJob.has(entry.job.jobId)) goneByJob.set(entry.job.jobId, name);
  }
  /**
   * Locked entries no longer in the manifest, by fingerprint: a new name with
   * the same inputs is that entry renamed. Its intent or running job follows
   * the inputs, not the name: a rename after a kill must not pay again.
   */
  const goneByFingerprint = new Map<Fingerprint, { readonly name: TargetName; readonly entry: LockedTarget }>();
  for (const name of Object.keys(lock.videos).sort()) {
    const entry = ownEntry(lock.videos, name);
    if (entry === undefined || targetNames.has(name) || !isTargetKey(name) || goneByFingerprint.has(entry.fingerprint)) continue;
    goneByFingerprint.set(entry.fingerprint, { name, entry });
  }
  /** Gone entries a current target takes over in this plan: not orphans. */
  const adoptedNames = new Set<TargetName>();
  /** Jobs this plan puts under a current name: their old entry is not an orphan until that is done. */
  const adoptedJobs = new Set<JobId>();
  const steps: PlanStep[] = [];
  const decided = new Map<TargetName, Decided>();
  const unpricedWarned = new Set<string>();
  for (const target of manifest.targets.values()) {
    if (selected !== undefined && !selected.has(target.name)) continue;
    const step = planTarget(target);
    steps.push(step);
    decided.set(target.name, {
      fingerprint: step.fingerprint,
      action: step.action,
      keptJobId: keptJobIdOf(step),
    });
  }

  if (!narrowed) {
    for (const name of Object.keys(lock.videos).sort()) {
      const locked = ownEntry(lock.videos, name);
      if (locked === undefined || targetNames.has(name) || !isTargetKey(name)) continue;
      // Renamed, and this plan restores its job under the new name from the cache:
      // listing it now would let \`vidbuild prune\` delete the remote job the new
      // name is about to record (and its remixes need). Once applied, the new
      // entry holds the job id, and prune removes only this entry and its files.
      if (locked.job.state === 'job' && adoptedJobs.has(locked.job.jobId)) continue;
      if (adoptedNames.has(name)) continue;
      const orphan: OrphanStep = {
        action: 'orphan',
        name,
        reason: `in ${lockName} but not in the manifest (vidbuild prune removes it)`,
        cost: 0,
        locked,
      };
      steps.push(orphan);
    }
    for (const name of Object.keys(lock.characters).sort()) {
      const locked = ownEntry(lock.characters, name);
      if (locked === undefined || characterNames.has(name) || !isCharacterKey(name)) continue;
      characterSteps.push({
        name,
        action: 'orphan',
        reason: `in ${lockName} but not in the manifest (vidbuild prune removes it)`,
        fileSha256: locked.fileSha256,
        locked,
      });
    }
  }

  const counts: Record<Action, number> = { create: 0, replace: 0, resume: 0, retry: 0, failed: 0, fetch: 0, regenerate: 0, unchanged: 0, orphan: 0 };
  let cost = 0;
  let unpriced = 0;
  for (const s of steps) {
    counts[s.action] += 1;
    cost += s.cost;
    if (s.action !== 'orphan' && s.unpriced === true) unpriced += 1;
  }
  return {
    steps,
    characters: characterSteps,
    summary: { counts, cost: roundCents(cost), unpriced, priceTableDate: table.date },
    warnings,
  };

  function planTarget(target: Target): TargetStep {
    const sourceName = sourceTargetOf(target);
    const dependsOn: TargetName[] = sourceName === undefined ? [] : [sourceName];
    let provisional = false;
    const sentences: string[] = [];

    let source: SourceIdentity | undefined;
    let sourceJobId: JobId | undefined;
    if (sourceName !== undefined) {
      const src = decided.get(sourceName);
      if (src === undefined) throw new Error(`planner: source ${sourceName} of ${target.name} not decided (manifest not topologically ordered?)`);
      // Nothing to derive from until the source is retried: this one waits too.
      if (src.action === 'failed') return blockedBy(target, sourceName, src.fingerprint, dependsOn);
      if (src.keptJobId === undefined) {
        source = { fingerprint: src.fingerprint };
        provisional = true;
        sentences.push(`source ${sourceName} will be ${pastParticiple(src.action)}`);
      } else {
        source = { jobId: src.keptJobId };
        sourceJobId = src.keptJobId;
      }
    }

    const files = referencedFilesOf(target).map((p) => fileHash(p, target.name));
    const characters: CharacterIdentity[] = [];
    const characterIds: CharacterId[] = [];
    for (const c of target.characters) {
      const d = characterDecisions.get(c);
      if (d === undefined) throw new Error(`planner: character ${c} of ${target.name} not decided`);
      characters.push(d.identity);
      if (d.final && 'id' in d.identity) characterIds.push(d.identity.id);
      else {
        provisional = true;
        sentences.push(`character ${c} will be ${pastParticiple(d.action)}`);
      }
    }
    const fingerprint = fingerprintTarget(target, { files, source, characters });

    const seconds = requestedSeconds(target);
    const price = pricePerSecond(target.model, target.size, table);
    const paidCost = price === undefined ? 0 : roundCents(price * seconds);
    if (price === undefined) {
      const key = `${target.model} ${target.size}`;
      if (!unpricedWarned.has(key)) {
        unpricedWarned.add(key);
        warnings.push({
          code: 'unpriced',
          severity: 'warning',
          message: `no price for ${target.model} at ${target.size} in the price table of ${table.date}; shown as $? and left out of the estimated total (give it under \`pricing:\` in the manifest, USD per second)`,
        });
      }
    }

    const own = ownEntry(lock.videos, target.name);
    const diff = (locked: LockedTarget | undefined) => (): readonly ChangedField[] => {
      if (locked === undefined) return [];
      // Built as the executor records it (job-request.ts), so the two compare alike.
      const current = buildJobRequest(target, { sourceJobId, uploadSha256: files[0], characterIds });
      return changedFields(locked.job.request, current, target, {
        sourceProvisional: source !== undefined && 'fingerprint' in source,
        charactersProvisional: characters.length !== characterIds.length,
      });
    };
    let d = decide(target, own, fingerprint, diff(own), sentences);
    let locked = own;
    // New to the lock and not in the cache: a gone entry with the same inputs
    // is this target renamed, with its intent, running job or outputs.
    const renamed = d.action === 'create' && own === undefined && !provisional ? goneByFingerprint.get(fingerprint) : undefined;
    if (renamed !== undefined) {
      goneByFingerprint.delete(fingerprint);
      adoptedNames.add(renamed.name);
      if (renamed.entry.job.state === 'job') adoptedJobs.add(renamed.entry.job.jobId);
      locked = renamed.entry;
      const decision = decide(target, locked, fingerprint, diff(locked), sentences);
      d = { ...decision, reason: `renamed from ${renamed.name} (same inputs): ${decision.reason}` };
    }
    // An edit reverted while the earlier version's job was still running, its
    // run stopped before that job reached the cache: the job is on record
    // (lock/obsolete-ledger.ts) and is this target's again, resumed or
    // downloaded rather than paid for twice.
    const onRecord =
      renamed === undefined && !provisional && !forced.has(target.name) && (d.action === 'create' || d.action === 'replace') ? facts.obsoleteJobs?.get(fingerprint) : undefined;
    let fromObsolete: JobId | undefined;
    if (onRecord !== undefined && onRecord.job.state === 'job' && !adoptedJobs.has(onRecord.job.jobId)) {
      const decision = decide(target, onRecord, fingerprint, diff(onRecord), sentences);
      if (!isPaidAction(decision.action)) {
        adoptedJobs.add(onRecord.job.jobId);
        fromObsolete = onRecord.job.jobId;
        locked = onRecord;
        d = { ...decision, reason: `these inputs were made before as job ${onRecord.job.jobId} (an edit reverted): ${decision.reason}` };
      }
    }
    // A new job's output takes the place of this target's own output, changed
    // since vidbuild wrote it: apply keeps the changed file aside (overwrite-guard.ts).
    if (d.action === 'replace' || d.action === 'retry' || (d.action === 'fetch' && d.fromCache !== undefined)) {
      for (const p of changedOutputs(target, locked)) {
        warnings.push({ code: 'output-changed', severity: 'warning', message: `${target.name}: ${p} was changed since vidbuild wrote it; apply keeps it as ${asideName(p)} before writing over it` });
      }
    }
    // An intent without a job id is reconciled first, but creates (and pays)
    // when no matching job turns up: budget and confirmation count it in full.
    const paidStep = isPaidAction(d.action) || (d.action === 'resume' && locked?.job.state === 'intent');
    const step: TargetStep = {
      action: d.action,
      name: target.name,
      target,
      fingerprint,
      provisional,
      reason: d.reason,
      changes: d.changes,
      ...(d.changes.includes('prompt') && locked !== undefined ? { promptChange: { from: locked.job.request.prompt, to: target.prompt } } : {}),
      cost: paidStep ? paidCost : 0,
      restores: d.restores,
      ...(d.fromCache === undefined ? {} : { fromCache: d.fromCache }),
      locked,
      ...(renamed === undefined ? {} : { renamedFrom: renamed.name }),
      ...(fromObsolete === undefined ? {} : { fromObsolete }),
      dependsOn,
    };
    return paidStep && price === undefined ? { ...step, unpriced: true } : step;
  }

  /**
   * A target derived from a `failed` one: not attempted either. Its
   * fingerprint stands on the source's, as for a source about to get a new job.
   */
  function blockedBy(target: Target, sourceName: TargetName, sourceFingerprint: Fingerprint, dependsOn: readonly TargetName[]): TargetStep {
    const files = referencedFilesOf(target).map((p) => fileHash(p, target.name));
    const characters: CharacterIdentity[] = [];
    for (const c of target.characters) {
      const d = characterDecisions.get(c);
      if (d === undefined) throw new Error(`planner: character ${c} of ${target.name} not decided`);
      characters.push(d.identity);
    }
    return {
      action: 'failed',
      name: target.name,
      target,
      fingerprint: fingerprintTarget(target, { files, source: { fingerprint: sourceFingerprint }, characters }),
      provisional: true,
      reason: `source ${sourceName} failed`,
      changes: NONE,
      cost: 0,
      restores: NONE,
      locked: ownEntry(lock.videos, target.name),
      dependsOn,
    };
  }

  /**
   * This target's outputs on disk at the very path its lock entry records,
   * with other bytes: its own output, changed since vidbuild wrote it (a
   * truncated copy, an edit in place). Apply moves such a file aside before
   * writing there, so it is named in the plan.
   */
  function changedOutputs(target: Target, locked: LockedTarget | undefined): ProjectPath[] {
    const out: ProjectPath[] = [];
    if (locked === undefined) return out;
    for (const variant of target.assets) {
      const p = target.outputs[variant];
      const a = locked.assets[variant];
      const onDisk = p === undefined ? undefined : facts.outputs.get(p);
      if (p !== undefined && a !== undefined && a.path === p && onDisk !== undefined && onDisk.sha256 !== a.sha256) out.push(p);
    }
    return out;
  }

  /** The action for one target, given what the lock says and what is on disk. */
  function decide(
    target: Target,
    locked: LockedTarget | undefined,
    fingerprint: Fingerprint,
    diff: () => readonly ChangedField[],
    sentences: readonly string[],
  ): Decision {
    if (forced.has(target.name) && locked !== undefined) return { action: 'replace', reason: 'forced by --replace', changes: ['--replace'], restores: NONE };
    if (!forced.has(target.name) && (locked === undefined || locked.fingerprint !== fingerprint)) {
      const cached = facts.cachedJobs?.get(fingerprint);
      if (cached !== undefined && target.assets.every((v) => cached.variants.has(v))) {
        const restores: AssetRestore[] = [];
        for (const variant of target.assets) {
          const path = target.outputs[variant];
          if (path !== undefined) restores.push({ variant, path, from: cached.where === 'remote' ? 'remote-cache' : 'cache' });
        }
        const why = locked === undefined ? `not in ${lockName}` : 'inputs changed';
        const where = cached.where === 'remote' ? 'remote cache' : 'cache';
        const gone = goneByJob.get(cached.jobId);
        if (gone !== undefined) adoptedJobs.add(cached.jobId);
        return {
          action: 'fetch',
          reason:
            gone !== undefined && locked === undefined
              ? `renamed from ${gone} (same inputs, job ${cached.jobId}): restore from ${where}`
              : `${why}, but generated before as job ${cached.jobId}${gone === undefined ? '' : ` (as ${gone})`}: restore from ${where}`,
          changes: NONE,
          restores,
          fromCache: cached,
        };
      }
    }
    if (locked === undefined) return { action: 'create', reason: `not in ${lockName}`, changes: NONE, restores: NONE };

    if (locked.fingerprint !== fingerprint) {
      const fields = diff();
      const changes = dedupe([...fields.map((f) => f.label), ...sentences.map(labelOfSentence)]);
      const parts: string[] = [];
      if (fields.length > 0) parts.push(`${joinWords(fields.map((f) => (f.detail === undefined ? f.label : `${f.label} (${f.detail})`)))} changed`);
      parts.push(...sentences);
      return {
        action: 'replace',
        reason: parts.length > 0 ? parts.join('; ') : 'inputs changed',
        changes: changes.length > 0 ? changes : ['inputs'],
        restores: NONE,
      };
    }

    const job = locked.job;
    if (job.state === 'intent') return { action: 'resume', reason: 'interrupted run: reconcile, create if no job is found', changes: NONE, restores: NONE };
    if (job.status === 'queued' || job.status === 'in_progress') {
      const pct = job.progress === undefined ? '' : ` (${Math.round(job.progress)}%)`;
      return { action: 'resume', reason: `job ${job.jobId} is ${job.status}${pct}`, changes: NONE, restores: NONE };
    }
    if (job.status !== 'completed') {
      if (retryFailed) {
        const why = job.error === undefined ? job.status : `${job.status}: ${job.error.code}`;
        return { action: 'retry', reason: `job ${job.jobId} ${why}`, changes: NONE, restores: NONE };
      }
      const why = job.error === undefined ? job.status : `${job.status}: ${job.error.code}: ${shorten(job.error.message, ERROR_MESSAGE_SHOWN)}`;
      return { action: 'failed', reason: `job ${job.jobId} ${why}`, changes: NONE, restores: NONE };
    }
    return decideAssets(target, locked, job, fingerprint);
  }

  function decideAssets(target: Target, locked: LockedTarget, job: JobState, fingerprint: Fingerprint): Decision {
    let restores: AssetRestore[] | undefined;
    let problems: string[] | undefined;
    let needsGeneration = false;
    const changed = changedOutputs(target, locked);
    // A lost thumbnail or spritesheet alone does not justify paying for the
    // video again (and replacing everything derived from it): when the video
    // itself is kept, an extra that can no longer be fetched is a warning.
    const videoKept = target.assets.includes('video');
    for (const variant of target.assets) {
      const path = target.outputs[variant];
      if (path === undefined) continue;
      const lockedAsset = locked.assets[variant];
      const onDisk = facts.outputs.get(path);
      // The bytes that were paid for are at the path the manifest names now: nothing to do,
      // even if the lock remembers an older path.
      if (lockedAsset !== undefined && onDisk !== undefined && onDisk.sha256 === lockedAsset.sha256) continue;
      const expired = job.expiresAt !== undefined && Date.parse(job.expiresAt) <= nowMs;
      const from: AssetRestore['from'] =
        facts.cache.get(fingerprint)?.has(variant) === true ? 'cache' : facts.remoteAssets?.get(fingerprint)?.has(variant) === true ? 'remote-cache' : expired ? 'generate' : 'remote';
      if (from === 'generate' && videoKept && variant !== 'video') {
        warnings.push({
          code: 'asset-unavailable',
          severity: 'warning',
          message: `${target.name}: ${assetProblem(variant, path, lockedAsset?.path, lockName, onDisk !== undefined)} and cannot be fetched (job ${job.jobId} expired, not in the cache); the video is kept: \`vidbuild apply --replace ${target.name}\` makes a new job, at a cost`,
        });
        continue;
      }
      if (from === 'generate') needsGeneration = true;
      (problems ??= []).push(assetProblem(variant, path, lockedAsset?.path, lockName, onDisk !== undefined));
      (restores ??= []).push({ variant, path, from });
    }
    if (restores === undefined || problems === undefined) return UP_TO_DATE;
    if (needsGeneration) {
      const all: AssetRestore[] = [];
      for (const variant of target.assets) {
        const path = target.outputs[variant];
        if (path !== undefined) all.push({ variant, path, from: 'generate' });
      }
      const when = job.expiresAt === undefined ? '' : ` at ${job.expiresAt}`;
      return { action: 'regenerate', reason: `${problems.join(', ')}; job ${job.jobId} expired${when} and it is not in the cache${keptNote(changed)}`, changes: NONE, restores: all };
    }
    const how = howRestored(new Set(restores.map((r) => r.from)));
    return { action: 'fetch', reason: `${problems.join(', ')}: ${how}${keptNote(changed)}`, changes: NONE, restores };
  }
}

/** `; the changed file is kept as videos/a.modified-<time>.mp4`, for a step that writes over changed outputs. */
function keptNote(changed: readonly ProjectPath[]): string {
  if (changed.length === 0) return '';
  return changed.length === 1 ? `; the changed file is kept as ${asideName(changed[0] ?? '')}` : `; the changed files are kept as ${changed.map(asideName).join(', ')}`;
}

/** `videos/a.mp4` → `videos/a.modified-<time>.mp4`: where apply moves a changed output (overwrite-guard.ts). */
function asideName(p: string): string {
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  return dot > slash + 1 ? `${p.slice(0, dot)}.modified-<time>${p.slice(dot)}` : `${p}.modified-<time>`;
}

/** `restore from cache`, `restore from remote cache and download`, `download`… */
function howRestored(sources: ReadonlySet<AssetRestore['from']>): string {
  const restoredFrom = [...(sources.has('cache') ? ['cache'] : []), ...(sources.has('remote-cache') ? ['remote cache'] : [])];
  if (restoredFrom.length === 0) return 'download';
  return `restore from ${restoredFrom.join(' and ')}${sources.has('remote') ? ' and download' : ''}`;
}

interface Decision {
  readonly action: TargetStep['action'];
  readonly reason: string;
  readonly changes: readonly string[];
  readonly restores: readonly AssetRestore[];
  readonly fromCache?: CachedJob;
}

const NONE: readonly never[] = [];
const UP_TO_DATE: Decision = { action: 'unchanged', reason: 'up to date', changes: NONE, restores: NONE };

function planCharacter(character: Character, locked: LockedCharacter | undefined, lockName: string, sha: Sha256, known: KnownCharacter | undefined): CharacterStep {
  const base = { name: character.name, fileSha256: sha, locked };
  const change = ((): CharacterStep => {
    if (locked === undefined) return { ...base, action: 'create', reason: `not in ${lockName}` };
    if (locked.fileSha256 !== sha) return { ...base, action: 'replace', reason: `${character.video} changed` };
    if (locked.job.state === 'intent') return { ...base, action: 'resume', reason: 'interrupted run: created again (a character cannot be looked up, so one may already exist)' };
    return { ...base, action: 'unchanged', reason: `character ${locked.job.characterId}` };
  })();
  // Created before from these very bytes: the executor takes that id again
  // rather than uploading (character-runner.ts), and so does the plan.
  if (change.action === 'unchanged' || known === undefined || known.fileSha256 !== sha) return change;
  const where = known.where === 'remote' ? 'remote cache' : 'cache';
  const why = change.action === 'create' ? `not in ${lockName}` : change.action === 'replace' ? `${character.video} changed` : 'interrupted run';
  return { ...base, action: 'fetch', reason: `${why}, but created before from this video as ${known.characterId}: reuse (from ${where})`, reuses: known };
}

function decideCharacter(step: CharacterStep): CharacterDecision {
  if (step.action === 'fetch') return { identity: { id: step.reuses.characterId }, final: true, action: step.action };
  const locked = step.locked;
  if (step.action === 'unchanged' && locked !== undefined && locked.job.state === 'created') {
    return { identity: { id: locked.job.characterId }, final: true, action: step.action };
  }
  return { identity: { fileSha256: step.fileSha256 ?? unhashed() }, final: false, action: step.action };
}

/** The job id dependents may derive from: only a job that this plan keeps. */
function keptJobIdOf(step: TargetStep): JobId | undefined {
  switch (step.action) {
    case 'create':
    case 'replace':
    case 'retry':
    case 'failed':
    case 'regenerate':
      return undefined;
    case 'fetch':
    case 'resume':
    case 'unchanged': {
      if (step.fromCache !== undefined) return step.fromCache.jobId;
      const job = step.locked?.job;
      // An intent has no id yet: reconciling may find one or create one.
      return job?.state === 'job' ? job.jobId : undefined;
    }
    default:
      return unreachable(step.action, 'action');
  }
}

function pastParticiple(action: Action | CharacterStep['action']): string {
  switch (action) {
    case 'create':
      return 'created';
    case 'replace':
      return 'replaced';
    case 'retry':
      return 'retried';
    case 'failed':
      return 'left failed';
    case 'regenerate':
      return 'regenerated';
    case 'resume':
      return 'reconciled';
    case 'fetch':
    case 'unchanged':
    case 'orphan':
      return 'kept';
    default:
      return unreachable(action, 'action');
  }
}

interface ChangedField {
  readonly label: string;
  readonly detail?: string;
}

/** Which inputs differ between the request the lock recorded and the one this manifest asks for. */
function changedFields(
  prev: JobRequest,
  cur: JobRequest,
  target: Target,
  provisional: { readonly sourceProvisional: boolean; readonly charactersProvisional: boolean },
): ChangedField[] {
  const out: ChangedField[] = [];
  if (prev.kind !== cur.kind) out.push({ label: 'kind', detail: `${prev.kind} → ${cur.kind}` });
  if (prev.prompt !== cur.prompt) out.push({ label: 'prompt' });
  if (prev.model !== cur.model) out.push({ label: 'model', detail: `${prev.model} → ${cur.model}` });
  if (prev.size !== cur.size) out.push({ label: 'size', detail: `${prev.size} → ${cur.size}` });
  if (prev.seconds !== cur.seconds) out.push({ label: 'seconds', detail: `${prev.seconds} → ${cur.seconds}` });
  if (prev.uploadSha256 !== cur.uploadSha256 || !sameReference(prev.inputReference, cur.inputReference)) {
    if (target.kind === 'generate') out.push({ label: 'input_reference', detail: referenceChange(prev.inputReference, cur.inputReference) });
    else if (target.source.type === 'file') out.push({ label: `source ${target.source.path}` });
  }
  if (!provisional.sourceProvisional && target.kind !== 'generate' && target.source.type === 'target' && prev.sourceJobId !== cur.sourceJobId) {
    out.push({ label: `source ${target.source.name}`, detail: cur.sourceJobId === undefined ? undefined : `now ${cur.sourceJobId}` });
  }
  // A set, as in the fingerprint: another order alone is no change.
  if (!provisional.charactersProvisional && !sameList([...(prev.characterIds ?? [])].sort(), [...(cur.characterIds ?? [])].sort())) {
    out.push({ label: 'characters' });
  }
  return out.map((f) => (f.detail === undefined ? { label: f.label } : f));
}

/** "source intro will be regenerated" → "source intro" (the input's name, for `changes`). */
function labelOfSentence(sentence: string): string {
  return sentence.replace(/ will be \w+$/, '');
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * What became of a reference given as a URL or file id, short enough for a
 * plan line ("https://cdn…/a.png → https://cdn…/b.png", "sha256 pinned");
 * undefined for a local file, whose change is its content (no words for it).
 */
function referenceChange(prev: JobRequest['inputReference'], cur: JobRequest['inputReference']): string | undefined {
  const name = (r: NonNullable<JobRequest['inputReference']>): string => ('file_id' in r ? r.file_id : shorten(r.image_url, 60));
  if (cur === undefined) return prev === undefined ? undefined : 'now a local file';
  if (prev === undefined) return `now ${name(cur)}`;
  if ('image_url' in prev && 'image_url' in cur && prev.image_url === cur.image_url) {
    if (prev.sha256 === undefined) return 'sha256 pinned';
    if (cur.sha256 === undefined) return 'sha256 unpinned';
    return `sha256 ${prev.sha256.slice(0, 12)} → ${cur.sha256.slice(0, 12)}`;
  }
  return `${name(prev)} → ${name(cur)}`;
}

/** A URL (with its pin) or a file id, compared as the fingerprint hashes it. */
function sameReference(a: JobRequest['inputReference'], b: JobRequest['inputReference']): boolean {
  if (a === undefined || b === undefined) return a === b;
  if ('file_id' in a || 'file_id' in b) return 'file_id' in a && 'file_id' in b && a.file_id === b.file_id;
  return a.image_url === b.image_url && a.sha256 === b.sha256;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function dedupe(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1] ?? ''}`;
}

function assetProblem(variant: AssetVariant, path: string, lockedPath: string | undefined, lockName: string, exists: boolean): string {
  if (lockedPath === undefined) return `${variant} not materialized yet`;
  if (lockedPath !== path) return `${variant} moved to ${path}`;
  return exists ? `${variant} at ${path} differs from ${lockName}` : `${variant} missing (${path})`;
}

/** Own-property lookup: a target may be called `constructor` without meeting Object.prototype. */
function ownEntry<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Stand-in for a file that could not be hashed: never equal to a real file's hash in practice. */
function unhashed(): Sha256 {
  return sha256Of(UNHASHED);
}
