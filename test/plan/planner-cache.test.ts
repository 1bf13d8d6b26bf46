import { describe, expect, it } from 'vitest';
import type { JobId, Fingerprint } from '../../src/lock/lockfile.js';
import { emptyLockfile } from '../../src/lock/lockfile.js';
import { planBuild } from '../../src/plan/planner.js';
import type { CachedJob, Plan, TargetStep } from '../../src/plan/plan.js';
import type { AssetVariant } from '../../src/manifest/manifest.js';
import { buildManifest, tn, type TargetSpec } from './build-manifest.js';
import { simulateApply } from './simulate-apply.js';

const SPECS: TargetSpec[] = [
  { name: 'intro', prompt: 'dawn' },
  { name: 'intro_night', kind: 'remix', source: 'intro' },
];

function step(plan: Plan, name: string): TargetStep {
  const s = plan.steps.find((x) => x.name === name);
  if (s === undefined || s.action === 'orphan') throw new Error(`no target step ${name}`);
  return s;
}

function cached(jobId: string, variants: AssetVariant[] = ['video']): CachedJob {
  return { jobId: jobId as JobId, createdAt: '2025-10-06T10:00:00Z', variants: new Set(variants) };
}

describe('planBuild with cached jobs', () => {
  it('restores a reverted prompt from the cache instead of paying, and its dependents follow', () => {
    // Apply v1 ("dawn"), remember its fingerprints as cached; then apply v2 ("dusk"); then revert.
    const v1 = buildManifest(SPECS);
    const applied1 = simulateApply(v1, {});
    const fp = (name: string): Fingerprint => {
      const e = applied1.lock.videos[tn(name)];
      if (e === undefined) throw new Error(name);
      return e.fingerprint;
    };
    const jobOf = (name: string): string => {
      const e = applied1.lock.videos[tn(name)];
      if (e === undefined || e.job.state !== 'job') throw new Error(name);
      return e.job.jobId;
    };
    const v2 = buildManifest([{ name: 'intro', prompt: 'dusk' }, SPECS[1] as TargetSpec]);
    const applied2 = simulateApply(v2, {}, '_v2');

    const cachedJobs = new Map<Fingerprint, CachedJob>([
      [fp('intro'), cached(jobOf('intro'))],
      [fp('intro_night'), cached(jobOf('intro_night'))],
    ]);
    const plan = planBuild(v1, applied2.lock, { ...applied2.facts, cachedJobs });
    expect(step(plan, 'intro').action).toBe('fetch');
    expect(step(plan, 'intro').fromCache?.jobId).toBe(jobOf('intro'));
    expect(step(plan, 'intro').restores.every((r) => r.from === 'cache')).toBe(true);
    expect(step(plan, 'intro').reason).toContain('restore from cache');
    expect(step(plan, 'intro_night').action).toBe('fetch');
    expect(step(plan, 'intro_night').provisional).toBe(false);
    expect(plan.summary.cost).toBe(0);
  });

  it('restores a renamed target (same inputs, new name) from the cache', () => {
    const v1 = buildManifest([{ name: 'intro', prompt: 'dawn' }]);
    const applied = simulateApply(v1, {});
    const e = applied.lock.videos[tn('intro')];
    if (e === undefined || e.job.state !== 'job') throw new Error('intro');
    const renamed = buildManifest([{ name: 'opening', prompt: 'dawn' }]);
    const plan = planBuild(renamed, emptyLockfile(), {
      ...applied.facts,
      cachedJobs: new Map([[e.fingerprint, cached(e.job.jobId)]]),
    });
    expect(step(plan, 'opening').action).toBe('fetch');
  });

  it('a renamed target restored from the cache says so, and its old entry is no orphan until then (prune must not delete the job)', () => {
    const v1 = buildManifest([{ name: 'intro', prompt: 'dawn' }, { name: 'gone', prompt: 'other' }]);
    const applied = simulateApply(v1, {});
    const e = applied.lock.videos[tn('intro')];
    if (e === undefined || e.job.state !== 'job') throw new Error('intro');
    const renamed = buildManifest([{ name: 'opening', prompt: 'dawn' }]);
    const plan = planBuild(renamed, applied.lock, { ...applied.facts, cachedJobs: new Map([[e.fingerprint, cached(e.job.jobId)]]) });
    expect(step(plan, 'opening')).toMatchObject({ action: 'fetch', reason: `renamed from intro (same inputs, job ${e.job.jobId}): restore from cache` });
    // `gone` is an ordinary orphan; `intro` is not listed while its job moves to `opening`.
    expect(plan.steps.filter((s) => s.action === 'orphan').map((s) => s.name)).toEqual(['gone']);

    // Once opening is applied, nothing moves any more: intro is an orphan again (prune keeps a job a current entry holds).
    const after = simulateApply(renamed, {});
    const again = planBuild(renamed, { ...after.lock, videos: { ...after.lock.videos, [tn('intro')]: e } }, after.facts);
    expect(again.steps.filter((s) => s.action === 'orphan').map((s) => s.name)).toEqual(['intro']);
  });

  it('an existing target whose new inputs are a removed target\'s job names it, and keeps that entry off the orphan list too', () => {
    const v1 = buildManifest([{ name: 'intro', prompt: 'dawn' }, { name: 'opening', prompt: 'dusk' }]);
    const applied = simulateApply(v1, {});
    const e = applied.lock.videos[tn('intro')];
    if (e === undefined || e.job.state !== 'job') throw new Error('intro');
    const merged = buildManifest([{ name: 'opening', prompt: 'dawn' }]);
    const plan = planBuild(merged, applied.lock, { ...applied.facts, cachedJobs: new Map([[e.fingerprint, cached(e.job.jobId)]]) });
    expect(step(plan, 'opening')).toMatchObject({ action: 'fetch', reason: `inputs changed, but generated before as job ${e.job.jobId} (as intro): restore from cache` });
    expect(plan.steps.some((s) => s.action === 'orphan')).toBe(false);
  });

  it('pays when the cache lacks a wanted variant, or when --replace forces it', () => {
    const v1 = buildManifest([{ name: 'intro', prompt: 'dawn', assets: ['video', 'thumbnail'] } as TargetSpec]);
    const applied = simulateApply(v1, {});
    const e = applied.lock.videos[tn('intro')];
    if (e === undefined || e.job.state !== 'job') throw new Error('intro');
    const onlyVideo = new Map([[e.fingerprint, cached(e.job.jobId, ['video'])]]);
    const plan = planBuild(v1, emptyLockfile(), { ...applied.facts, cachedJobs: onlyVideo });
    expect(step(plan, 'intro').action).toBe('create');
    const full = new Map([[e.fingerprint, cached(e.job.jobId, ['video', 'thumbnail'])]]);
    const forced = planBuild(v1, applied.lock, { ...applied.facts, cachedJobs: full }, { replace: [tn('intro')] });
    expect(step(forced, 'intro').action).toBe('replace');
  });
});

describe('planBuild with the team’s remote cache', () => {
  it('a target not in the lock that the remote holds is a $0 restore from the remote cache', () => {
    const v1 = buildManifest([{ name: 'intro', prompt: 'dawn' }]);
    const applied = simulateApply(v1, {});
    const e = applied.lock.videos[tn('intro')];
    if (e === undefined || e.job.state !== 'job') throw new Error('intro');
    const remote = new Map<Fingerprint, CachedJob>([[e.fingerprint, { ...cached(e.job.jobId), where: 'remote' }]]);
    const plan = planBuild(v1, emptyLockfile(), { ...applied.facts, outputs: new Map(), cachedJobs: remote });
    const s = step(plan, 'intro');
    expect(s.action).toBe('fetch');
    expect(s.restores.map((r) => r.from)).toEqual(['remote-cache']);
    expect(s.reason).toContain('restore from remote cache');
    expect(plan.summary.cost).toBe(0);
  });

  it('a locked target whose job expired and whose bytes are in the remote is fetched from there, not regenerated', () => {
    const v1 = buildManifest([{ name: 'intro', prompt: 'dawn' }]);
    const applied = simulateApply(v1, {});
    const e = applied.lock.videos[tn('intro')];
    if (e === undefined) throw new Error('intro');
    const later = { ...applied.facts, outputs: new Map(), now: new Date('2026-01-01T00:00:00Z') };
    expect(step(planBuild(v1, applied.lock, later), 'intro').action).toBe('regenerate');
    const remoteAssets = new Map([[e.fingerprint, new Set<AssetVariant>(['video'])]]);
    const s = step(planBuild(v1, applied.lock, { ...later, remoteAssets }), 'intro');
    expect(s.action).toBe('fetch');
    expect(s.restores.map((r) => r.from)).toEqual(['remote-cache']);
    expect(s.reason).toMatch(/: restore from remote cache$/);
    expect(s.cost).toBe(0);
  });
});
