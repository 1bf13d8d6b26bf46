import { describe, expect, it } from 'vitest';
import pc from 'picocolors';
import { emptyLockfile } from '../../src/lock/lockfile.js';
import { planBuild } from '../../src/plan/planner.js';
import { renderPlan } from '../../src/plan/render-plan.js';
import { planToJson } from '../../src/plan/plan-json.js';
import { planHasChanges } from '../../src/plan/plan.js';
import { buildManifest, tn, type TargetSpec } from './build-manifest.js';
import { simulateApply } from './simulate-apply.js';

const plain = pc.createColors(false);
const manifest = buildManifest([
  { name: 'intro', seconds: 8 },
  { name: 'intro_night', kind: 'remix', source: 'intro' },
  { name: 'intro_long', kind: 'extend', source: 'intro', add: 4 },
]);

describe('renderPlan', () => {
  it('draws aligned Terraform-like lines and a summary', () => {
    const { facts } = simulateApply(manifest);
    const text = renderPlan(planBuild(manifest, emptyLockfile(), facts), plain);
    expect(text).toBe(
      [
        'vidbuild will perform the following actions:',
        '',
        '  + intro        create  not in videos.lock  $0.80',
        '  + intro_night  create  not in videos.lock  $0.80',
        '  + intro_long   create  not in videos.lock  $0.40',
        '',
        'Plan: 3 to create. Estimated cost: $2.00 (prices of 2025-10-06).',
        '',
      ].join('\n'),
    );
  });

  it('lines up character names with combining accents and wide (CJK) letters', () => {
    const nfd = 'Sen\u0303or Gato';
    const m = buildManifest(
      [
        { name: 'a', prompt: `${nfd} naps`, characters: [nfd] },
        { name: 'b', prompt: '小猫 naps', characters: ['小猫'] },
      ],
      { [nfd]: 'refs/gato.mp4', 小猫: 'refs/cat.mp4' },
    );
    const { lock } = simulateApply(m, { 'refs/gato.mp4': 'g', 'refs/cat.mp4': 'c' });
    // Both character videos were re-shot: the characters and the videos using them are replaced.
    const { facts } = simulateApply(m, { 'refs/gato.mp4': 'g2', 'refs/cat.mp4': 'c2' });
    const lines = renderPlan(planBuild(m, lock, facts), plain).split('\n');
    expect(lines.slice(2, 6)).toEqual([
      `  -/+ ${nfd} (character)  replace  refs/gato.mp4 changed`,
      '  -/+ 小猫 (character)        replace  refs/cat.mp4 changed',
      `  -/+ a                       replace  character ${nfd} will be replaced  $0.40`,
      '  -/+ b                       replace  character 小猫 will be replaced        $0.40',
    ]);
  });

  it('collapses unchanged targets into the count and mixes symbols', () => {
    const { lock, facts } = simulateApply(manifest);
    const edited = buildManifest([
      { name: 'intro', seconds: 8 },
      { name: 'intro_night', kind: 'remix', source: 'intro', prompt: 'night' },
      { name: 'intro_long', kind: 'extend', source: 'intro', add: 4 },
    ]);
    const text = renderPlan(planBuild(edited, lock, facts), plain);
    expect(text).toContain('  -/+ intro_night  replace  prompt changed  $0.80\n');
    expect(text).not.toContain(' intro ');
    expect(text).toContain('1 to replace');
    expect(text).toContain('2 unchanged');
  });

  it('says there is nothing to do, and colours only when asked', () => {
    const { lock, facts } = simulateApply(manifest);
    const plan = planBuild(manifest, lock, facts);
    expect(planHasChanges(plan)).toBe(false);
    expect(renderPlan(plan, plain)).toBe('No changes. Your videos match the manifest.\n');
    expect(renderPlan(planBuild(manifest, emptyLockfile(), facts), plain)).not.toContain('\u001b[');
    expect(renderPlan(planBuild(manifest, emptyLockfile(), facts), pc.createColors(true))).toContain('\u001b[32m');
  });

  it('lines up every cost, also after a retry whose reason names a long job id', () => {
    const { lock, facts } = simulateApply(manifest, {}, '_3465bbe469b201d2c21e6421c4eed30cbfaeb7b701b19f94');
    const intro = lock.videos[tn('intro')];
    if (intro === undefined || intro.job.state !== 'job') throw new Error('no intro job');
    const failed = { ...lock, videos: { ...lock.videos, [tn('intro')]: { ...intro, job: { ...intro.job, status: 'failed' as const, error: { code: 'moderation_blocked', message: 'x' } } } } };
    const lines = renderPlan(planBuild(manifest, failed, facts, { retryFailed: true }), plain).split('\n').filter((l) => l.endsWith('$0.80') || l.endsWith('$0.40'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/r intro +retry +job video_intro_3465\S+ failed: moderation_blocked +\$0\.80$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('names failed targets under the summary, with how to retry, instead of "No changes"', () => {
    const five = buildManifest([
      { name: 'a' },
      { name: 'b' },
      { name: 'c' },
      { name: 'd' },
      { name: 'a_night', kind: 'remix', source: 'a' },
      { name: 'fine' },
    ]);
    const { lock, facts } = simulateApply(five);
    const videos = { ...lock.videos };
    for (const n of ['a', 'b', 'c', 'd']) {
      const e = videos[tn(n)];
      if (e === undefined || e.job.state !== 'job') throw new Error(`no ${n} job`);
      videos[tn(n)] = { ...e, job: { ...e.job, status: 'failed' as const, error: { code: 'moderation_blocked', message: 'Blocked.' } } };
    }
    const text = renderPlan(planBuild(five, { ...lock, videos }, facts), plain);
    expect(text).toMatch(/^Nothing to generate or fetch; these stay as they are:$/m);
    expect(text).toMatch(/^  ! a +failed +job \S+ failed: moderation_blocked: Blocked\.$/m);
    expect(text).toMatch(/^  ! a_night +failed +source a failed$/m);
    expect(text).toContain('Plan: 5 failed (not retried), 1 unchanged. Estimated cost: $0.00');
    expect(text).toContain(
      '4 targets failed with these inputs and are not retried (a, b, c and 1 more): their outputs are missing, and so is the output of 1 target derived from them; ' +
        'to try again (and pay again): vidbuild apply --retry-failed for every failed target, or --replace NAME for one',
    );
    expect(text).not.toContain('No changes');
  });

  it('lists orphans with their hint even when nothing else changes', () => {
    const { lock, facts } = simulateApply(manifest);
    const text = renderPlan(planBuild(buildManifest([{ name: 'intro', seconds: 8 }]), lock, facts), plain);
    expect(text).toContain('  - intro_long   orphan  in videos.lock but not in the manifest (vidbuild prune removes it)');
    expect(text).toContain('No changes. Your videos match the manifest.');
  });
});

describe('planToJson', () => {
  it('gives every step its name, action, reason, changes, cost, fingerprint and dependsOn', () => {
    const { lock, facts } = simulateApply(manifest);
    const plan = planBuild(manifest, lock, facts, { replace: [tn('intro')] });
    const json = planToJson(plan, planHasChanges(plan));
    expect(json.summary).toMatchObject({ changes: true, cost: 2, currency: 'USD', priceTableDate: '2025-10-06' });
    expect(json.steps[1]).toMatchObject({
      name: 'intro_night',
      action: 'replace',
      kind: 'remix',
      reason: 'source intro will be replaced',
      changes: ['source intro'],
      cost: 0.8,
      provisional: true,
      dependsOn: ['intro'],
      jobId: 'video_intro_night',
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('says what each step makes and where: model, size, seconds of the result, outputs, characters; an orphan what it made', () => {
    const kept: TargetSpec[] = [
      { name: 'intro', seconds: 8, assets: ['video', 'thumbnail'], prompt: 'ann waves', characters: ['ann'] },
      { name: 'intro_long', kind: 'extend', source: 'intro', add: 4 },
    ];
    const m = buildManifest([...kept, { name: 'gone', seconds: 12, model: 'sora-2-pro', size: '1792x1024' }], { ann: 'refs/ann.mp4' });
    const { lock, facts } = simulateApply(m, { 'refs/ann.mp4': 'a' });
    const without = buildManifest(kept, { ann: 'refs/ann.mp4' });
    const json = planToJson(planBuild(without, lock, facts, { replace: [tn('intro')] }), true);
    expect(json.steps.map((s) => ({ name: s.name, action: s.action, model: s.model, size: s.size, seconds: s.seconds, outputs: s.outputs, characters: s.characters }))).toEqual([
      { name: 'intro', action: 'replace', model: 'sora-2', size: '720x1280', seconds: 8, outputs: { video: 'videos/intro.mp4', thumbnail: 'videos/intro.thumbnail.webp' }, characters: ['ann'] },
      { name: 'intro_long', action: 'replace', model: 'sora-2', size: '720x1280', seconds: 12, outputs: { video: 'videos/intro_long.mp4' }, characters: [] },
      { name: 'gone', action: 'orphan', model: 'sora-2-pro', size: '1792x1024', seconds: 12, outputs: { video: 'videos/gone.mp4' }, characters: [] },
    ]);
  });
});
