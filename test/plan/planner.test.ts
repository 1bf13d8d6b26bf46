import { describe, expect, it } from 'vitest';
import type { JobId, JobState, LockedTarget, Lockfile } from '../../src/lock/lockfile.js';
import { emptyLockfile } from '../../src/lock/lockfile.js';
import { planBuild } from '../../src/plan/planner.js';
import type { DiskFacts, Plan, PlanStep, TargetStep } from '../../src/plan/plan.js';
import { planHasChanges } from '../../src/plan/plan.js';
import { buildManifest, pp, tn, type TargetSpec } from './build-manifest.js';
import { NOW, sha, simulateApply } from './simulate-apply.js';

const FILES = { 'refs/a.png': 'png-a', 'refs/logo.mp4': 'logo', 'refs/mascot.mp4': 'mascot' };

const SPECS: TargetSpec[] = [
  { name: 'intro', seconds: 8, input: 'refs/a.png' },
  { name: 'intro_night', kind: 'remix', source: 'intro' },
  { name: 'intro_long', kind: 'extend', source: 'intro', add: 4 },
  { name: 'intro_long_warm', kind: 'edit', source: 'intro_long' },
  { name: 'logo_fix', kind: 'edit', source: { file: 'refs/logo.mp4' } },
  { name: 'other', prompt: 'unrelated' },
];

function base(specs: TargetSpec[] = SPECS, characters: Record<string, string> = {}) {
  const manifest = buildManifest(specs, characters);
  return { manifest, ...simulateApply(manifest, FILES) };
}

function step(plan: Plan, name: string): TargetStep {
  const s = plan.steps.find((x: PlanStep) => x.name === name);
  if (s === undefined || s.action === 'orphan') throw new Error(`no target step ${name}`);
  return s;
}

function actions(plan: Plan): Record<string, string> {
  return Object.fromEntries(plan.steps.map((s) => [s.name, s.action]));
}

function patchVideo(lock: Lockfile, name: string, patch: (e: LockedTarget) => LockedTarget): Lockfile {
  const entry = lock.videos[tn(name)];
  if (entry === undefined) throw new Error(name);
  return { ...lock, videos: { ...lock.videos, [name]: patch(entry) } };
}

function patchJob(lock: Lockfile, name: string, patch: Partial<JobState>): Lockfile {
  return patchVideo(lock, name, (e) => {
    if (e.job.state !== 'job') throw new Error('not a job');
    return { ...e, job: { ...e.job, ...patch } };
  });
}

const live = (lock: Lockfile, name: string) => patchJob(lock, name, { expiresAt: '2025-10-07T13:00:00Z' });

describe('planBuild', () => {
  it('creates everything when there is no lock, priced by the seconds each step produces', () => {
    const { manifest, facts } = base();
    const plan = planBuild(manifest, emptyLockfile(), facts);
    expect(new Set(Object.values(actions(plan)))).toEqual(new Set(['create']));
    expect(step(plan, 'intro').cost).toBe(0.8); // 8 s sora-2
    expect(step(plan, 'intro_night').cost).toBe(0.8); // remix: the source's 8 s
    expect(step(plan, 'intro_long').cost).toBe(0.4); // extend: the 4 added seconds
    expect(step(plan, 'intro_long').reason).toBe('not in videos.lock');
    expect(plan.summary.counts.create).toBe(6);
    expect(plan.summary.cost).toBe(0.8 + 0.8 + 0.4 + 1.2 + 0.4 + 0.4);
    // Dependents of sources that do not exist yet have provisional fingerprints.
    expect(step(plan, 'intro').provisional).toBe(false);
    expect(step(plan, 'intro_night').provisional).toBe(true);
    expect(step(plan, 'intro_long_warm').provisional).toBe(true);
    expect(step(plan, 'intro_night').dependsOn).toEqual(['intro']);
  });

  it('leaves an applied manifest unchanged', () => {
    const { manifest, lock, facts } = base();
    const plan = planBuild(manifest, lock, facts);
    expect(new Set(Object.values(actions(plan)))).toEqual(new Set(['unchanged']));
    expect(planHasChanges(plan)).toBe(false);
    expect(plan.summary.cost).toBe(0);
    expect(plan.warnings).toEqual([]);
  });

  it.each([
    { name: 'prompt', spec: { name: 'other', prompt: 'changed' } satisfies TargetSpec, changes: ['prompt'], reason: 'prompt changed' },
    { name: 'seconds', spec: { name: 'other', prompt: 'unrelated', seconds: 8 } satisfies TargetSpec, changes: ['seconds'], reason: 'seconds (4 → 8) changed' },
    { name: 'model', spec: { name: 'other', prompt: 'unrelated', model: 'sora-2-pro' } satisfies TargetSpec, changes: ['model'], reason: 'model (sora-2 → sora-2-pro) changed' },
    { name: 'size', spec: { name: 'other', prompt: 'unrelated', size: '1280x720' } satisfies TargetSpec, changes: ['size'], reason: 'size (720x1280 → 1280x720) changed' },
    { name: 'input_reference', spec: { name: 'other', prompt: 'unrelated', input: 'refs/a.png' } satisfies TargetSpec, changes: ['input_reference'], reason: 'input_reference changed' },
    { name: 'two fields', spec: { name: 'other', prompt: 'x', seconds: 12 } satisfies TargetSpec, changes: ['prompt', 'seconds'], reason: 'prompt and seconds (4 → 12) changed' },
  ])('replaces when $name changes and says so', ({ spec, changes, reason }) => {
    const { lock, facts } = base();
    const edited = buildManifest(SPECS.map((s) => (s.name === 'other' ? spec : s)));
    const plan = planBuild(edited, lock, facts);
    const s = step(plan, 'other');
    expect(s.action).toBe('replace');
    expect(s.changes).toEqual(changes);
    expect(s.reason).toBe(reason);
    expect(s.cost).toBeGreaterThan(0);
    expect(actions(plan)['intro']).toBe('unchanged');
  });

  it('replaces when a referenced file changes content', () => {
    const { manifest, lock, facts } = base();
    const hashes = new Map(facts.fileHashes);
    hashes.set(pp('refs/logo.mp4'), sha('new logo'));
    const plan = planBuild(manifest, lock, { ...facts, fileHashes: hashes });
    expect(step(plan, 'logo_fix').action).toBe('replace');
    expect(step(plan, 'logo_fix').changes).toEqual(['source refs/logo.mp4']);
  });

  it('cascades a replaced source through the whole chain with provisional fingerprints', () => {
    const { lock, facts } = base();
    const edited = buildManifest(SPECS.map((s) => (s.name === 'intro' ? { ...s, prompt: 'new dawn' } : s)));
    const plan = planBuild(edited, lock, facts);
    expect(actions(plan)).toEqual({
      intro: 'replace',
      intro_night: 'replace',
      intro_long: 'replace',
      intro_long_warm: 'replace',
      logo_fix: 'unchanged',
      other: 'unchanged',
    });
    expect(step(plan, 'intro_night').reason).toBe('source intro will be replaced');
    expect(step(plan, 'intro_night').changes).toEqual(['source intro']);
    expect(step(plan, 'intro_night').provisional).toBe(true);
    expect(step(plan, 'intro_long_warm').reason).toBe('source intro_long will be replaced');
    expect(plan.summary.counts).toMatchObject({ replace: 4, unchanged: 2 });
  });

  it('--replace forces a target and cascades to its dependents', () => {
    const { manifest, lock, facts } = base();
    const plan = planBuild(manifest, lock, facts, { replace: [tn('intro_long')] });
    expect(step(plan, 'intro_long')).toMatchObject({ action: 'replace', reason: 'forced by --replace' });
    expect(step(plan, 'intro_long_warm')).toMatchObject({ action: 'replace', reason: 'source intro_long will be replaced' });
    expect(actions(plan)['intro']).toBe('unchanged');
  });

  it('resumes a job still in progress and lets dependents build on its id', () => {
    const { manifest, lock, facts } = base();
    let l = patchJob(lock, 'intro', { status: 'in_progress', progress: 45 });
    l = { ...l, videos: Object.fromEntries(Object.entries(l.videos).filter(([k]) => k !== 'intro_night')) };
    const plan = planBuild(manifest, l, facts);
    expect(step(plan, 'intro')).toMatchObject({ action: 'resume', reason: 'job video_intro is in_progress (45%)', cost: 0 });
    // The source keeps its job, so a dependent's fingerprint is final, not provisional.
    expect(step(plan, 'intro_night')).toMatchObject({ action: 'create', provisional: false });
    expect(step(plan, 'intro_long').action).toBe('unchanged');
  });

  it('resumes an intent without a job id by reconciling, and treats its dependents as provisional', () => {
    const { manifest, lock, facts } = base();
    const l = patchVideo(lock, 'intro', (e) => ({ ...e, job: { state: 'intent', intentAt: '2025-10-07T10:00:00Z', request: e.job.request } }));
    const plan = planBuild(manifest, l, facts);
    // Priced in full: if the reconcile finds no job, it is created (and paid for).
    expect(step(plan, 'intro')).toMatchObject({ action: 'resume', reason: 'interrupted run: reconcile, create if no job is found', cost: 0.8 });
    expect(step(plan, 'intro_night')).toMatchObject({ action: 'replace', provisional: true, reason: 'source intro will be reconciled' });
  });

  it.each([
    { status: 'failed', error: { code: 'moderation_blocked', message: 'no' }, reason: 'job video_other failed: moderation_blocked: no', retryReason: 'job video_other failed: moderation_blocked' },
    { status: 'expired', error: undefined, reason: 'job video_other expired', retryReason: 'job video_other expired' },
    { status: 'canceled', error: undefined, reason: 'job video_other canceled', retryReason: 'job video_other canceled' },
  ])('leaves a job that ended $status failed (free), and retries it (paid) only with retryFailed', ({ status, error, reason, retryReason }) => {
    const { manifest, lock, facts } = base();
    const l = patchJob(lock, 'other', { status, ...(error === undefined ? {} : { error }) });
    const plan = planBuild(manifest, l, facts);
    expect(step(plan, 'other')).toMatchObject({ action: 'failed', reason, cost: 0 });
    expect(plan.summary).toMatchObject({ cost: 0, counts: { failed: 1, retry: 0 } });
    expect(planHasChanges(plan)).toBe(false);
    expect(step(planBuild(manifest, l, facts, { retryFailed: true }), 'other')).toMatchObject({ action: 'retry', reason: retryReason, cost: 0.4 });
    // The manifest's `retryFailed: true` opts in as well.
    expect(step(planBuild({ ...manifest, retryFailed: true }, l, facts), 'other').action).toBe('retry');
  });

  it('a long provider message is cut short in the reason', () => {
    const { manifest, lock, facts } = base();
    const l = patchJob(lock, 'other', { status: 'failed', error: { code: 'moderation_blocked', message: 'x'.repeat(500) } });
    const reason = step(planBuild(manifest, l, facts), 'other').reason;
    expect(reason.length).toBeLessThan(250);
    expect(reason).toMatch(/x…$/);
  });

  it('what derives from a failed source is failed too: nothing to derive from, nothing paid', () => {
    const { manifest, lock, facts } = base();
    const failed = patchJob(lock, 'intro', { status: 'failed' });
    const plan = planBuild(manifest, failed, facts);
    expect(step(plan, 'intro')).toMatchObject({ action: 'failed', cost: 0 });
    expect(step(plan, 'intro_night')).toMatchObject({ action: 'failed', reason: 'source intro failed', cost: 0, provisional: true });
    // Transitively, and only what derives from it.
    expect(step(plan, 'intro_long_warm')).toMatchObject({ action: 'failed', reason: 'source intro_long failed' });
    expect(step(plan, 'other').action).toBe('unchanged');
    // --replace on the source is a way out: it is replaced, and its dependents with it.
    const replaced = planBuild(manifest, failed, facts, { replace: [tn('intro')] });
    expect(step(replaced, 'intro').action).toBe('replace');
    expect(step(replaced, 'intro_night')).toMatchObject({ action: 'replace', reason: 'source intro will be replaced' });
  });

  it('retrying a source cascades to its dependents', () => {
    const { manifest, lock, facts } = base();
    const plan = planBuild(manifest, patchJob(lock, 'intro', { status: 'failed' }), facts, { retryFailed: true });
    expect(step(plan, 'intro_night')).toMatchObject({ action: 'replace', reason: 'source intro will be retried' });
  });

  describe('missing outputs', () => {
    const missing = (facts: DiskFacts, path: string): DiskFacts => {
      const outputs = new Map(facts.outputs);
      outputs.delete(pp(path));
      return { ...facts, outputs };
    };

    it('fetches from the remote while the job has not expired', () => {
      const { manifest, lock, facts } = base();
      const plan = planBuild(manifest, live(lock, 'other'), missing(facts, 'videos/other.mp4'));
      expect(step(plan, 'other')).toMatchObject({
        action: 'fetch',
        reason: 'video missing (videos/other.mp4): download',
        cost: 0,
        restores: [{ variant: 'video', path: 'videos/other.mp4', from: 'remote' }],
      });
    });

    it('prefers the local cache, even after the remote expired', () => {
      const { manifest, lock, facts } = base();
      const fp = lock.videos[tn('other')]?.fingerprint;
      if (fp === undefined) throw new Error('no fp');
      const f = missing(facts, 'videos/other.mp4');
      const plan = planBuild(manifest, lock, { ...f, cache: new Map([[fp, new Set(['video' as const])]]) });
      expect(step(plan, 'other')).toMatchObject({ action: 'fetch', restores: [{ from: 'cache' }] });
      expect(step(plan, 'other').reason).toContain('restore from cache');
    });

    it('fetches a corrupt output', () => {
      const { manifest, lock, facts } = base();
      const outputs = new Map(facts.outputs);
      outputs.set(pp('videos/other.mp4'), { bytes: 3, sha256: sha('garbage') });
      const plan = planBuild(manifest, live(lock, 'other'), { ...facts, outputs });
      // Apply moves the changed file aside before restoring (overwrite-guard.ts): the plan says where.
      expect(step(plan, 'other')).toMatchObject({
        action: 'fetch',
        reason: 'video at videos/other.mp4 differs from videos.lock: download; the changed file is kept as videos/other.modified-<time>.mp4',
      });
      expect(plan.warnings ?? []).toEqual([]);
    });

    it('warns when a new job would write over an output changed since vidbuild wrote it', () => {
      const { lock, facts } = base();
      const outputs = new Map(facts.outputs);
      outputs.set(pp('videos/other.mp4'), { bytes: 3, sha256: sha('edited') });
      const edited = buildManifest(SPECS.map((s) => (s.name === 'other' ? { ...s, prompt: `${s.prompt} Now at night.` } : s)));
      const plan = planBuild(edited, live(lock, 'other'), { ...facts, outputs });
      expect(step(plan, 'other')).toMatchObject({ action: 'replace' });
      expect(plan.warnings).toContainEqual({
        code: 'output-changed',
        severity: 'warning',
        message: 'other: videos/other.mp4 was changed since vidbuild wrote it; apply keeps it as videos/other.modified-<time>.mp4 before writing over it',
      });
    });

    it('fetches outputs whose path moved (outDir changed) and a newly requested variant', () => {
      const { lock, facts } = base();
      const moved = buildManifest(SPECS, {}, 'renders');
      const plan = planBuild(moved, live(lock, 'other'), facts);
      expect(step(plan, 'other')).toMatchObject({ action: 'fetch', reason: 'video moved to renders/other.mp4: download' });
      const withThumb = buildManifest(SPECS.map((s) => (s.name === 'other' ? { ...s, assets: ['video', 'thumbnail'] } : s)));
      const p2 = planBuild(withThumb, live(lock, 'other'), facts);
      expect(step(p2, 'other')).toMatchObject({ action: 'fetch', restores: [{ variant: 'thumbnail', from: 'remote' }] });
    });

    it('regenerates when the remote copy expired and nothing is cached, cascading to dependents', () => {
      const { manifest, lock, facts } = base();
      const plan = planBuild(manifest, lock, missing(facts, 'videos/intro.mp4'));
      const s = step(plan, 'intro');
      expect(s.action).toBe('regenerate');
      expect(s.reason).toBe('video missing (videos/intro.mp4); job video_intro expired at 2025-10-07T11:02:00Z and it is not in the cache');
      expect(s.cost).toBe(0.8);
      expect(s.restores).toEqual([{ variant: 'video', path: 'videos/intro.mp4', from: 'generate' }]);
      expect(step(plan, 'intro_night')).toMatchObject({ action: 'replace', reason: 'source intro will be regenerated' });
    });

    it('an expired job whose video is kept but a newly asked thumbnail cannot be fetched: a warning, not a paid regenerate of it and its dependents', () => {
      const { lock, facts } = base();
      const withThumb = buildManifest(SPECS.map((s) => (s.name === 'intro' ? { ...s, assets: ['video', 'thumbnail'] } : s)));
      const plan = planBuild(withThumb, lock, facts);
      expect(step(plan, 'intro')).toMatchObject({ action: 'unchanged', cost: 0 });
      expect(step(plan, 'intro_night').action).toBe('unchanged');
      expect(plan.summary.cost).toBe(0);
      expect(plan.warnings?.map((w) => w.message)).toContainEqual(
        'intro: thumbnail not materialized yet and cannot be fetched (job video_intro expired, not in the cache); the video is kept: `vidbuild apply --replace intro` makes a new job, at a cost',
      );
      // The video missing too: then it is regenerated, thumbnail included.
      const both = planBuild(withThumb, lock, missing(facts, 'videos/intro.mp4'));
      expect(step(both, 'intro')).toMatchObject({ action: 'regenerate', cost: 0.8 });
      expect(step(both, 'intro').restores.map((r) => r.variant)).toEqual(['video', 'thumbnail']);
    });

    it('fetching a source does not disturb its dependents', () => {
      const { manifest, lock, facts } = base();
      const plan = planBuild(manifest, live(lock, 'intro'), missing(facts, 'videos/intro.mp4'));
      expect(actions(plan)).toMatchObject({ intro: 'fetch', intro_night: 'unchanged', intro_long_warm: 'unchanged' });
    });
  });

  it('reports lock entries the manifest no longer has as orphans, after the targets', () => {
    const { lock, facts } = base();
    const smaller = buildManifest(SPECS.filter((s) => s.name !== 'other' && s.name !== 'logo_fix'));
    const plan = planBuild(smaller, lock, facts);
    const orphans = plan.steps.filter((s) => s.action === 'orphan');
    expect(orphans.map((s) => s.name)).toEqual(['logo_fix', 'other']);
    expect(orphans[0]?.reason).toBe('in videos.lock but not in the manifest (vidbuild prune removes it)');
    expect(plan.steps.at(-1)?.action).toBe('orphan');
    expect(planHasChanges(plan)).toBe(false);
  });

  it('--target narrows to the targets and their sources, transitively', () => {
    const { manifest, facts } = base();
    const plan = planBuild(manifest, emptyLockfile(), facts, { targets: [tn('intro_long_warm')] });
    expect(plan.steps.map((s) => s.name)).toEqual(['intro', 'intro_long', 'intro_long_warm']);
    const { lock } = base();
    const withOrphan = planBuild(buildManifest(SPECS.slice(0, 2)), lock, facts, { targets: [tn('intro')] });
    expect(withOrphan.steps.map((s) => s.name)).toEqual(['intro']);
  });

  describe('characters', () => {
    const specs: TargetSpec[] = [{ name: 'walk', prompt: 'mascot waves', characters: ['mascot'] }];
    const chars = { mascot: 'refs/mascot.mp4' };

    it('creates a new character and the targets that use it, provisionally', () => {
      const manifest = buildManifest(specs, chars);
      const { facts } = simulateApply(manifest, FILES);
      const plan = planBuild(manifest, emptyLockfile(), facts);
      expect(plan.characters).toMatchObject([{ name: 'mascot', action: 'create', reason: 'not in videos.lock' }]);
      expect(step(plan, 'walk')).toMatchObject({ action: 'create', provisional: true });
      expect(planHasChanges(plan)).toBe(true);
    });

    it('keeps a created character and uses its id', () => {
      const manifest = buildManifest(specs, chars);
      const { lock, facts } = simulateApply(manifest, FILES);
      const plan = planBuild(manifest, lock, facts);
      expect(plan.characters).toMatchObject([{ action: 'unchanged' }]);
      expect(step(plan, 'walk')).toMatchObject({ action: 'unchanged', provisional: false });
    });

    it('replaces a character whose video changed, and its users', () => {
      const manifest = buildManifest(specs, chars);
      const { lock, facts } = simulateApply(manifest, FILES);
      const hashes = new Map(facts.fileHashes);
      hashes.set(pp('refs/mascot.mp4'), sha('new mascot'));
      const plan = planBuild(manifest, lock, { ...facts, fileHashes: hashes });
      expect(plan.characters).toMatchObject([{ action: 'replace', reason: 'refs/mascot.mp4 changed' }]);
      expect(step(plan, 'walk')).toMatchObject({ action: 'replace', reason: 'character mascot will be replaced', changes: ['character mascot'] });
    });

    it('reuses a character created before from the bytes its video has now (the cache remembers it): $0, and its users keep their ids', () => {
      const manifest = buildManifest(specs, chars);
      const { lock, facts } = simulateApply(manifest, FILES);
      const entry = lock.characters['mascot' as never];
      if (entry?.job.state !== 'created') throw new Error('no char');
      // The lock holds a character made from other bytes since; the cache remembers the one made from these.
      const changed: Lockfile = { ...lock, characters: simulateApply(manifest, { ...FILES, 'refs/mascot.mp4': 'other mascot' }, '-2').lock.characters };
      const known = { fileSha256: sha('mascot'), characterId: entry.job.characterId, createdAt: entry.job.createdAt };
      const plan = planBuild(manifest, changed, { ...facts, knownCharacters: new Map([['mascot' as never, known]]) });
      expect(plan.characters).toMatchObject([
        { action: 'fetch', reason: `refs/mascot.mp4 changed, but created before from this video as ${entry.job.characterId}: reuse (from cache)`, reuses: known },
      ]);
      // The user's fingerprint is the one it was made with: unchanged, not replaced.
      expect(step(plan, 'walk')).toMatchObject({ action: 'unchanged', provisional: false, cost: 0 });
      expect(plan.summary.cost).toBe(0);
      // Remembered for other bytes: no use.
      const stale = planBuild(manifest, changed, { ...facts, knownCharacters: new Map([['mascot' as never, { ...known, fileSha256: sha('third') }]]) });
      expect(stale.characters).toMatchObject([{ action: 'replace' }]);
    });

    it('resumes a character intent and orphans a removed one', () => {
      const manifest = buildManifest(specs, chars);
      const { lock, facts } = simulateApply(manifest, FILES);
      const entry = lock.characters['mascot' as never];
      if (entry === undefined) throw new Error('no char');
      const l: Lockfile = {
        ...lock,
        characters: Object.fromEntries([...Object.entries(lock.characters), ['mascot', { ...entry, job: { state: 'intent', intentAt: 'x' } }], ['old', entry]]),
      };
      const plan = planBuild(manifest, l, facts);
      expect(plan.characters.map((c) => [c.name, c.action])).toEqual([
        ['mascot', 'resume'],
        ['old', 'orphan'],
      ]);
    });
  });

  describe('pricing', () => {
    it('prices sora-2-pro by size and flags unknown model/size pairs instead of failing', () => {
      const manifest = buildManifest([
        { name: 'big', model: 'sora-2-pro', size: '1792x1024', seconds: 8 },
        { name: 'small', model: 'sora-2-pro', size: '1280x720', seconds: 4 },
        { name: 'snap', model: 'sora-2-2025-10-06', seconds: 4 },
        { name: 'odd', model: 'veo-9', size: '640x480', seconds: 4 },
      ]);
      const plan = planBuild(manifest, emptyLockfile(), { fileHashes: new Map(), outputs: new Map(), cache: new Map(), now: NOW });
      expect(step(plan, 'big').cost).toBe(4);
      expect(step(plan, 'small').cost).toBe(1.2);
      expect(step(plan, 'snap').cost).toBe(0.4);
      expect(step(plan, 'odd')).toMatchObject({ cost: 0, unpriced: true });
      expect(plan.warnings?.map((w) => w.code)).toEqual(['unpriced']);
      // Says what the plan shows ($?), not "$0".
      expect(plan.warnings?.map((w) => w.message)).toEqual([
        'no price for veo-9 at 640x480 in the price table of 2025-10-06; shown as $? and left out of the estimated total (give it under `pricing:` in the manifest, USD per second)',
      ]);
      expect(plan.summary).toMatchObject({ cost: 5.6, priceTableDate: '2025-10-06' });
    });
  });

  it('warns and plans a change when a referenced file could not be hashed', () => {
    const { manifest, lock, facts } = base();
    const hashes = new Map(facts.fileHashes);
    hashes.delete(pp('refs/a.png'));
    const plan = planBuild(manifest, lock, { ...facts, fileHashes: hashes });
    expect(step(plan, 'intro').action).toBe('replace');
    expect(plan.warnings?.[0]?.code).toBe('file-not-hashed');
  });

  it('is pure: the same inputs give the same plan', () => {
    const { manifest, lock, facts } = base();
    expect(planBuild(manifest, lock, facts)).toEqual(planBuild(manifest, lock, facts));
  });

  it('names a changed source job in the changes', () => {
    const { manifest, lock, facts } = base();
    // The source was regenerated in an earlier run (new job id) but the dependent was not rebuilt.
    const l = patchJob(lock, 'intro', { jobId: 'video_new' as JobId });
    const plan = planBuild(manifest, l, facts);
    expect(step(plan, 'intro_night')).toMatchObject({ action: 'replace', changes: ['source intro'], reason: 'source intro (now video_new) changed' });
  });
});
