import type { AssetVariant, Manifest, TargetName } from '../manifest/manifest.js';
import { lockedJobIds, type Fingerprint, type Lockfile } from '../lock/lockfile.js';
import { LocalCache, variantsOf } from '../cache/local-cache.js';
import { gatherDiskFacts } from './disk-facts.js';
import { planBuild } from './planner.js';
import { defaultPriceTable, withPriceOverrides } from './pricing.js';
import type { CachedJob, DiskFacts, Plan, TargetStep } from './plan.js';
import { RemoteAsker, type SharedCache } from './remote-facts.js';
import { listObsolete, obsoleteByFingerprint } from '../lock/obsolete-ledger.js';


export interface ProjectPlan {
  readonly plan: Plan;
  readonly facts: DiskFacts;
  /** Set when the remote cache stopped answering while planning: steps it might have served still pay. */
  readonly remoteProblem?: string;
}

export interface PlanProjectOptions {
  readonly now?: Date | undefined;
  readonly targets?: readonly TargetName[] | undefined;
  readonly replace?: readonly TargetName[] | undefined;
  /** Resubmit targets whose job failed with their current inputs (see PlanOptions.retryFailed). */
  readonly retryFailed?: boolean | undefined;
  /** The team's remote cache, already probed; looked at for steps that would otherwise pay. */
  readonly remote?: SharedCache | undefined;
}

/**
 * The I/O edge around the pure planner: gather disk facts, plan, and when a
 * step would pay for inputs that the local cache has already seen (a reverted
 * prompt, a renamed target), load that cache entry and plan again so the step
 * becomes a free restore. Repeats while new cache hits appear, because a
 * source restored from cache gives its dependents a known job id, and so
 * possibly a cached fingerprint of their own. Each round is O(targets); the
 * number of rounds is bounded by the longest chain of derived targets.
 */
export async function planProject(
  manifest: Manifest,
  lock: Lockfile,
  options: PlanProjectOptions = {},
): Promise<ProjectPlan> {
  const gathered = await gatherDiskFacts(manifest, lock, options.now === undefined ? {} : { now: options.now });
  const obsoleteJobs = obsoleteByFingerprint(await listObsolete(manifest.projectDir), lockedJobIds(lock));
  const base: DiskFacts = obsoleteJobs.size === 0 ? gathered : { ...gathered, obsoleteJobs };
  const planOptions = {
    targets: options.targets,
    replace: options.replace,
    retryFailed: options.retryFailed,
    priceTable: withPriceOverrides(defaultPriceTable(), manifest.pricing),
  };
  let facts: DiskFacts = base;
  let plan = planBuild(manifest, lock, facts, planOptions);

  const remote = options.remote === undefined ? undefined : new RemoteAsker(options.remote);
  // Characters first: the videos made with one have its id in their fingerprints.
  const knownCharacters = new Map(base.knownCharacters ?? []);
  if (remote !== undefined && (await remote.askCharacters(plan.characters, knownCharacters))) {
    facts = { ...base, knownCharacters };
    plan = planBuild(manifest, lock, facts, planOptions);
  }

  const cache = new LocalCache(manifest.projectDir);
  let indexed: ReadonlySet<Fingerprint> | undefined;
  const cachedJobs = new Map<Fingerprint, CachedJob>();
  const remoteAssets = new Map<Fingerprint, ReadonlySet<AssetVariant>>();
  const looked = new Set<Fingerprint>();
  for (;;) {
    const wanted = plan.steps.filter(
      (s): s is TargetStep =>
        // A rename takes over the old entry only when the cache cannot restore its inputs outright.
        s.action !== 'orphan' &&
        (s.action === 'create' || s.action === 'replace' || s.action === 'regenerate' || s.renamedFrom !== undefined) &&
        !s.provisional &&
        !looked.has(s.fingerprint),
    );
    if (wanted.length === 0) break;
    indexed ??= await cache.indexedFingerprints();
    let found = false;
    const remoteWanted: TargetStep[] = [];
    for (const step of wanted) {
      looked.add(step.fingerprint);
      const entry = indexed.has(step.fingerprint) ? await cache.lookup(step.fingerprint) : undefined;
      if (entry === undefined) {
        remoteWanted.push(step);
        continue;
      }
      // Only variants whose object is really there (lookup checks each): an index entry can outlive its blobs.
      const variants = variantsOf(entry);
      cachedJobs.set(step.fingerprint, { jobId: entry.jobId, createdAt: entry.createdAt, variants });
      found = true;
    }
    // After the local cache, before the API: what a teammate or CI already made.
    if (remote !== undefined && (await remote.ask(remoteWanted, cachedJobs, remoteAssets))) found = true;
    if (!found) break;
    facts = { ...facts, cachedJobs, ...(remoteAssets.size === 0 ? {} : { remoteAssets }) };
    plan = planBuild(manifest, lock, facts, planOptions);
  }
  return { plan, facts, ...(remote?.problem === undefined ? {} : { remoteProblem: remote.problem }) };
}
