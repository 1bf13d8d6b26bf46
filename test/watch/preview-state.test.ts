import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { planBuild } from '../../src/plan/planner.js';
import { emptyLockfile, type Fingerprint, type JobId } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';
import { isTargetName } from '../../src/manifest/safe-name.js';
import { isJobId } from '../../src/lock/lock-names.js';
import type { DiskFacts, TargetStep } from '../../src/plan/plan.js';
import { holdSteps } from '../../src/watch/hold-steps.js';
import { PreviewStore, whatDiffers, type HistoryEntry } from '../../src/watch/preview-state.js';

function tn(s: string): TargetName {
  if (!isTargetName(s)) throw new Error(`bad target name ${s}`);
  return s;
}

async function planned() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-preview-state-'));
  onTestFinished(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'videos.yaml');
  await fs.writeFile(
    file,
    'version: 1\ndefaults: { model: sora-2, size: 1280x720, seconds: 4 }\nvideos:\n  a: { prompt: A kite. }\n  b: { remix: a, prompt: The kite at night. }\n',
  );
  const loaded = await loadManifest(file, { cwd: dir });
  if (!loaded.ok) throw new Error(loaded.error.map((d) => d.message).join('\n'));
  const facts: DiskFacts = { fileHashes: new Map(), outputs: new Map(), cache: new Map(), now: new Date() };
  const lock = emptyLockfile();
  const plan = planBuild(loaded.value.manifest, lock, facts);
  return { manifest: loaded.value.manifest, plan, lock };
}

const at = '2026-01-01T00:00:00.000Z';
const jobId = (s: string): JobId => {
  if (!isJobId(s)) throw new Error(`bad job id ${s}`);
  return s;
};

describe('PreviewStore', () => {
  it('draws one card per target and follows executor events', async () => {
    const { manifest, plan, lock } = await planned();
    const store = new PreviewStore({ manifest: 'videos.yaml', maxCost: undefined, backend: 'emulator' });
    let notified = 0;
    store.subscribe(() => notified++);
    store.setPlan(manifest, plan, lock, new Map());
    const cards = () => store.snapshot().cards;
    expect(cards().map((c) => [c.name, c.kind, c.source, c.status])).toEqual([
      ['a', 'generate', null, 'pending'],
      ['b', 'remix', 'a', 'pending'],
    ]);
    const fp = plan.steps.find((s): s is TargetStep => s.name === 'a' && s.action !== 'orphan')?.fingerprint;
    if (fp === undefined) throw new Error('no fingerprint');
    const id = jobId('video_0123456789abcdef');
    store.applyEvent({ type: 'job-intent', at, name: tn('a'), kind: 'generate', fingerprint: fp });
    store.applyEvent({ type: 'job-submitted', at, name: tn('a'), jobId: id, kind: 'generate', fingerprint: fp, resumed: false });
    store.applyEvent({ type: 'job-progress', at, name: tn('a'), jobId: id, status: 'in_progress', progress: 42, elapsedMs: 10 });
    expect(cards()[0]).toMatchObject({ status: 'in_progress', progress: 42 });
    store.applyEvent({ type: 'job-failed', at, name: tn('a'), jobId: id, code: 'moderation_blocked', message: 'blocked' });
    store.applyEvent({ type: 'job-skipped', at, name: tn('b'), reason: 'source a did not complete' });
    expect(cards().map((c) => [c.status, c.error])).toEqual([
      ['failed', 'moderation_blocked: blocked'],
      ['skipped', 'source a did not complete'],
    ]);
    expect(notified).toBeGreaterThan(5);
    // Snapshots are plain JSON.
    expect(JSON.parse(JSON.stringify(store.snapshot()))).toEqual(store.snapshot());
    // No output in the lock: nothing may be served.
    expect(store.servableOutputs().size).toBe(0);
  });

  it('shows held targets as held, with why', async () => {
    const { manifest, plan, lock } = await planned();
    const { held } = holdSteps(plan, { failedThisSession: new Map<TargetName, Fingerprint>(), retryFailed: false, spent: 0, maxCost: 0 });
    const store = new PreviewStore({ manifest: 'videos.yaml', maxCost: 0, backend: 'emulator' });
    store.setPlan(manifest, plan, lock, held);
    expect(store.snapshot().cards.map((c) => [c.status, c.error])).toEqual([
      ['held', expect.stringMatching(/over --max-cost \$0\.00/)],
      ['held', 'waits for a (held)'],
    ]);
  });

  it('says when nothing is billed, and what tells apart versions made from the same prompt; sizes travel with each version', async () => {
    const { manifest, plan, lock } = await planned();
    const store = new PreviewStore({ manifest: 'videos.yaml', maxCost: undefined, backend: 'starting' });
    store.setBackend('emulator (free)', true);
    store.setPlan(manifest, plan, lock, new Map());
    expect(store.snapshot()).toMatchObject({ backend: 'emulator (free)', free: true });
    const entry = (fingerprint: string, createdAt: string, over: Partial<HistoryEntry>): HistoryEntry => ({
      fingerprint, prompt: 'A field.', model: 'sora-2', size: '720x1280', seconds: 4, createdAt, jobId: null, videoSha256: null, thumbnailSha256: null, ...over,
    });
    const entries = [
      entry(`sha256:${'1'.repeat(64)}`, '2026-01-01T00:00:00Z', {}),
      entry(`sha256:${'2'.repeat(64)}`, '2026-01-02T00:00:00Z', { seconds: 8, size: '1280x720' }),
      entry(`sha256:${'3'.repeat(64)}`, '2026-01-03T00:00:00Z', { prompt: 'A hill.' }),
    ];
    store.setHistory('a', entries, undefined);
    const history = store.snapshot().cards[0]?.history ?? [];
    expect(history.map((v) => [v.prompt, v.size, v.differs])).toEqual([
      ['A hill.', '720x1280', null],
      ['A field.', '1280x720', 'same prompt as another version: 1280x720, not 720x1280; 8 s, not 4 s'],
      ['A field.', '720x1280', 'same prompt as another version: 720x1280, not 1280x720; 4 s, not 8 s'],
    ]);
    expect(whatDiffers(entries[0] as HistoryEntry, [entries[0] as HistoryEntry, { ...(entries[0] as HistoryEntry), fingerprint: `sha256:${'4'.repeat(64)}` }])).toBe(
      'same prompt as another version: another reference image, source or characters',
    );
  });
});

