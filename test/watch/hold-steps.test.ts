import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { planBuild } from '../../src/plan/planner.js';
import { emptyLockfile, type Fingerprint } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';
import type { DiskFacts, TargetStep } from '../../src/plan/plan.js';
import { holdSteps } from '../../src/watch/hold-steps.js';
import { isTargetName } from '../../src/manifest/safe-name.js';

function tn(s: string): TargetName {
  if (!isTargetName(s)) throw new Error(`bad target name ${s}`);
  return s;
}

/** A real manifest, planned by the real planner against an empty lock: three paid creates. */
async function freshPlan() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-hold-'));
  onTestFinished(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'videos.yaml');
  await fs.writeFile(
    file,
    [
      'version: 1',
      'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
      'videos:',
      '  a: { prompt: A kite. }',
      '  b: { remix: a, prompt: The kite at night. }',
      '  c: { prompt: A boat. }',
      '',
    ].join('\n'),
  );
  const loaded = await loadManifest(file, { cwd: dir });
  if (!loaded.ok) throw new Error(loaded.error.map((d) => d.message).join('\n'));
  const facts: DiskFacts = { fileHashes: new Map(), outputs: new Map(), cache: new Map(), now: new Date('2026-01-01T00:00:00Z') };
  const plan = planBuild(loaded.value.manifest, emptyLockfile(), facts);
  const fp = (name: string): Fingerprint => {
    const step = plan.steps.find((s): s is TargetStep => s.name === name && s.action !== 'orphan');
    if (step === undefined) throw new Error(`no step ${name}`);
    return step.fingerprint;
  };
  return { plan, fp };
}

const names = (steps: readonly { name: string }[]) => steps.map((s) => s.name);
const noFailures = new Map<TargetName, Fingerprint>();

describe('holdSteps', () => {
  it('holds nothing when nothing failed and there is no budget', async () => {
    const { plan } = await freshPlan();
    const r = holdSteps(plan, { failedThisSession: noFailures, retryFailed: false, spent: 0, maxCost: undefined });
    expect(r.plan).toBe(plan);
    expect(r.held.size).toBe(0);
  });

  it('admits paid steps in order while the session total fits the budget, and holds dependents of held steps', async () => {
    const { plan } = await freshPlan();
    const cost = plan.steps[0]?.cost ?? 0;
    expect(cost).toBeGreaterThan(0);
    const r = holdSteps(plan, { failedThisSession: noFailures, retryFailed: false, spent: cost, maxCost: cost * 2.5 });
    expect(names(r.plan.steps)).toEqual(['a']);
    expect([...r.held.keys()].sort()).toEqual(['b', 'c']);
    expect(r.held.get(tn('c'))).toMatchObject({ reason: 'over-budget', message: expect.stringMatching(/would bring the session to \$[\d.]+, over --max-cost \$[\d.]+/) });
    expect(r.plan.summary.cost).toBe(cost);
    expect(r.plan.summary.counts.create).toBe(1);
  });

  it('holds a target whose current fingerprint failed this session, and what derives from it, unless retrying', async () => {
    const { plan, fp } = await freshPlan();
    const failed = new Map<TargetName, Fingerprint>([[tn('a'), fp('a')]]);
    const r = holdSteps(plan, { failedThisSession: failed, retryFailed: false, spent: 0, maxCost: undefined });
    expect(names(r.plan.steps)).toEqual(['c']);
    expect(r.held.get(tn('a'))).toMatchObject({ reason: 'failed-before', message: expect.stringMatching(/failed with these inputs; press r/) });
    expect(r.held.get(tn('b'))).toEqual({ reason: 'source-held', source: 'a', message: 'waits for a (held)' });

    const retry = holdSteps(plan, { failedThisSession: failed, retryFailed: true, spent: 0, maxCost: undefined });
    expect(retry.held.size).toBe(0);

    // Different inputs (another fingerprint failed earlier) run again.
    const stale = new Map<TargetName, Fingerprint>([[tn('a'), fp('c')]]);
    expect(holdSteps(plan, { failedThisSession: stale, retryFailed: false, spent: 0, maxCost: undefined }).held.size).toBe(0);
  });

  it('under a budget, holds a step with no known price (not $0: unknown) unless --allow-unpriced', async () => {
    const { plan } = await freshPlan();
    const c = plan.steps.find((s): s is TargetStep => s.name === 'c' && s.action !== 'orphan');
    if (c === undefined) throw new Error('no step c');
    const unpriced = { ...plan, steps: plan.steps.map((s) => (s === c ? { ...c, cost: 0, unpriced: true as const } : s)) };
    const r = holdSteps(unpriced, { failedThisSession: noFailures, retryFailed: false, spent: 0, maxCost: 100 });
    expect(names(r.plan.steps)).toEqual(['a', 'b']);
    expect(r.held.get(tn('c'))).toMatchObject({ reason: 'unpriced', message: expect.stringMatching(/no known price for sora-2 at 1280x720, so --max-cost cannot bound it .*--allow-unpriced/) });
    expect(holdSteps(unpriced, { failedThisSession: noFailures, retryFailed: false, spent: 0, maxCost: 100, allowUnpriced: true }).held.size).toBe(0);
    // Without a budget there is nothing to bound.
    expect(holdSteps(unpriced, { failedThisSession: noFailures, retryFailed: false, spent: 0, maxCost: undefined }).held.size).toBe(0);
  });
});
