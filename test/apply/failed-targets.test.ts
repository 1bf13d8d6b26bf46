import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, emulator, posts, readLock, tempProject, vidbuild } from './rig.js';

/**
 * A target whose job failed (moderation, say) is not paid for again on the
 * next `apply --yes` while its inputs are the same: the plan shows it failed,
 * with the provider's code and message and how to retry, and apply exits 1
 * because its output is missing. `--retry-failed` (all) or `--replace NAME`
 * (one) retries; new inputs plan it as a normal replace.
 */
const MANIFEST = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  good: { prompt: "A lighthouse at dawn." }
  bad: { prompt: "A storm [[fail:moderation_blocked]]" }
  bad_night: { remix: bad, prompt: "The storm at night." }
`;

describe('a failed target is not retried on its own', () => {
  it('apply --yes twice pays for the failure once; the plan says why and how to retry; --retry-failed and --replace retry', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': MANIFEST });

    const first = await apply(dir, emu);
    expect(first.code).toBe(1);
    expect(posts(emu)).toBe(2); // good and bad; bad_night is skipped
    const failedJob = (await readLock(dir)).videos['bad']?.job.jobId;
    expect(failedJob).toMatch(/^video_/);

    // The second run sends nothing: same inputs, same failure.
    const second = await apply(dir, emu);
    expect(posts(emu)).toBe(2);
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(new RegExp(`! bad +failed +job ${failedJob} failed: moderation_blocked: Generation failed with moderation_blocked`));
    expect(second.stdout).toMatch(/! bad_night +failed +source bad failed/);
    expect(second.stdout).toMatch(/Plan: 2 failed \(not retried\), 1 unchanged\./);
    expect(second.stdout).not.toMatch(/No changes/);
    const notice = second.stderr.split('\n').filter((l) => l.includes('--retry-failed'));
    expect(notice).toHaveLength(1);
    expect(notice[0]).toMatch(/bad failed with these inputs and is not retried.*output.* missing/);
    expect(notice[0]).toMatch(/--replace bad/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect((await readLock(dir)).videos['bad']?.job.jobId).toBe(failedJob);

    // plan: the same story, as text, markdown and JSON; nothing changes, so --detailed-exitcode is 0.
    const plan = await vidbuild(['plan', '--detailed-exitcode'], dir);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/! bad +failed +job \S+ failed: moderation_blocked: /);
    expect(plan.stdout).toMatch(/--retry-failed/);
    const md = await vidbuild(['plan', '--format', 'markdown'], dir);
    expect(md.stdout).toMatch(/\| `!` \| `bad` \| failed \| job \S+ failed: moderation\\_blocked: /);
    expect(md.stdout).toMatch(/--retry-failed/);
    const json = JSON.parse((await vidbuild(['plan', '--json'], dir)).stdout) as {
      summary: { counts: Record<string, number>; changes: boolean };
      steps: { name: string; action: string; reason: string; cost: number }[];
    };
    expect(json.summary).toMatchObject({ changes: false, counts: { failed: 2, retry: 0, unchanged: 1 } });
    expect(json.steps.find((s) => s.name === 'bad')).toMatchObject({ action: 'failed', cost: 0 });
    const retryPlan = await vidbuild(['plan', '--retry-failed'], dir);
    expect(retryPlan.stdout).toMatch(/r bad +retry +job \S+ failed: moderation_blocked +\$0\.40/);

    // pull never spends: it names them and the apply that retries them.
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], dir);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toMatch(/^  bad: failed \(job \S+ failed: moderation_blocked: /m);
    expect(pulled.stderr).toMatch(/vidbuild apply --retry-failed/);
    expect(posts(emu)).toBe(2);

    // --retry-failed retries every failed target (and it fails again: one more paid request).
    const retried = await apply(dir, emu, ['--retry-failed']);
    expect(retried.code).toBe(1);
    expect(posts(emu)).toBe(3);
    // --replace NAME retries that one.
    const replaced = await apply(dir, emu, ['--replace', 'bad']);
    expect(replaced.code).toBe(1);
    expect(posts(emu)).toBe(4);

    // New inputs: a normal replace, with its dependent, and no notice.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), MANIFEST.replace(' [[fail:moderation_blocked]]', ''));
    const fixed = await apply(dir, emu);
    expect(fixed.stdout).toMatch(/-\/\+ bad +replace +prompt changed/);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).not.toMatch(/--retry-failed/);
    expect(posts(emu)).toBe(6);
  });

  it('--json: each failed target is a job-skipped line, then run-finished; exit 1', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': MANIFEST });
    expect((await apply(dir, emu)).code).toBe(1);
    const again = await apply(dir, emu, ['--json']);
    expect(again.code).toBe(1);
    expect(posts(emu)).toBe(2);
    const events = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; name?: string; reason?: string; summary?: { skipped: number } });
    expect(events.filter((e) => e.type === 'job-skipped').map((e) => e.name).sort()).toEqual(['bad', 'bad_night']);
    expect(events.find((e) => e.name === 'bad' && e.type === 'job-skipped')?.reason).toMatch(/^not retried: job \S+ failed: moderation_blocked/);
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', summary: { skipped: 2, created: 0 } });
  });
});
