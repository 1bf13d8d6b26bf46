import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, emulator, readLock, tempProject, vidbuild } from './rig.js';

const CHAIN = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  base: { prompt: A lighthouse at dawn. }
  night: { remix: base, prompt: The same lighthouse at night. }
  other: { prompt: A quiet harbour. }
  dusk: { remix: other, prompt: The same lighthouse at night. }
`;

interface LockEntry {
  readonly seconds: number;
  readonly job: { readonly jobId?: string; readonly request: { readonly sourceJobId?: string } };
}

async function entries(dir: string): Promise<Record<string, LockEntry>> {
  return (JSON.parse(await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8')) as { videos: Record<string, LockEntry> }).videos;
}

describe('vidbuild import of a derived target', () => {
  it('says which source is missing (not "regenerated" when it was never made); warns when the job remixes another video; records the source job the fingerprint used, and the media as made', async () => {
    const emu = await emulator();
    const made = await tempProject({ 'videos.yaml': CHAIN });
    expect((await apply(made, emu)).code).toBe(0);
    const madeLock = (await readLock(made)).videos;
    const nightJob = madeLock['night']?.job.jobId ?? '';
    const baseJob = madeLock['base']?.job.jobId ?? '';

    // A fresh project: nothing generated, nothing cached.
    const dir = await tempProject({ 'videos.yaml': CHAIN });
    const early = await vidbuild(['import', 'night', nightJob, '--base-url', emu.baseURL], dir);
    expect(early.code).toBe(1);
    expect(early.stderr).toBe('night: its source base has no job to build on yet (plan: create); apply or import it first\n');

    // base is imported as its own job; dusk's job has night's prompt but remixes the harbour.
    const otherJob = madeLock['other']?.job.jobId ?? '';
    const duskJob = madeLock['dusk']?.job.jobId ?? '';
    expect((await vidbuild(['import', 'base', baseJob, '--base-url', emu.baseURL], dir)).code).toBe(0);
    const mismatched = await vidbuild(['import', 'night', duskJob, '--base-url', emu.baseURL], dir);
    expect(mismatched.code).toBe(1);
    expect(mismatched.stderr).toBe(
      `job ${duskJob} is not what night asks for: a remix of ${otherJob}, not of base's job ${baseJob}; import it anyway with --force (the lock then records the job as made, and the next plan replaces it)\n`,
    );
    const forced = await vidbuild(['import', 'night', duskJob, '--force', '--base-url', emu.baseURL], dir);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain(`warning: job ${duskJob} is a remix of ${otherJob}, not of base's job ${baseJob}\n`);
    // Recorded as made: from the job it really remixed, and the next plan replaces it.
    expect((await entries(dir))['night']?.job.request.sourceJobId).toBe(otherJob);
    expect((await vidbuild(['plan'], dir)).stdout).toMatch(/-\/\+ night\s+replace/);

    // The made project's cache knows base; with no lock, base will be restored from it,
    // and night's imported entry names that job as its source, as its fingerprint does.
    await fsp.rm(path.join(made, 'videos.lock'));
    const fromCache = await vidbuild(['import', 'night', nightJob, '--base-url', emu.baseURL], made);
    expect(fromCache.stderr).toBe('');
    expect(fromCache.code).toBe(0);
    expect((await entries(made))['night']?.job.request.sourceJobId).toBe(baseJob);
    const planned = await vidbuild(['plan'], made);
    expect(planned.stdout).toMatch(/<= base\s+fetch/);
    expect(planned.stdout).not.toMatch(/night/);

    // A job of another length is recorded as made (as apply does), after the warning.
    const longer = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  clip: { prompt: A field., seconds: 8 }\n' });
    const refused = await vidbuild(['import', 'clip', otherJob, '--base-url', emu.baseURL], longer);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('4 s (job) vs 8 s');
    const r = await vidbuild(['import', 'clip', otherJob, '--force', '--base-url', emu.baseURL], longer);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('4 s (job) vs 8 s');
    expect((await entries(longer))['clip']?.seconds).toBe(4);
  });
});

describe('vidbuild import of a job made from something else', () => {
  it('refuses it naming what differs, records nothing; with --force records the job as made, and the next plan replaces it for the prompt', async () => {
    const emu = await emulator();
    const elsewhere = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  x: { prompt: A quiet harbour., size: 1280x720 }\n' });
    expect((await apply(elsewhere, emu)).code).toBe(0);
    const jobId = (await readLock(elsewhere)).videos['x']?.job.jobId ?? '';

    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  clip: { prompt: A lighthouse at dawn., size: 720x1280 }\n' });
    const refused = await vidbuild(['import', 'clip', jobId, '--base-url', emu.baseURL], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `job ${jobId} is not what clip asks for: prompt "A quiet harbour." (job) vs "A lighthouse at dawn." (manifest); size 1280x720 (job) vs 720x1280; import it anyway with --force (the lock then records the job as made, and the next plan replaces it)\n`,
    );
    await expect(fsp.stat(path.join(dir, 'videos.lock'))).rejects.toThrow();
    await expect(fsp.stat(path.join(dir, 'out'))).rejects.toThrow();

    const forced = await vidbuild(['import', 'clip', jobId, '--force', '--base-url', emu.baseURL], dir);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain(`warning: job ${jobId} is not clip's prompt: prompt "A quiet harbour." (job)`);
    const entry = (await readLock(dir)).videos['clip'];
    expect(entry?.job).toMatchObject({ jobId, request: { prompt: 'A quiet harbour.', size: '1280x720' } });
    const plan = JSON.parse((await vidbuild(['plan', '--json'], dir)).stdout) as { steps: { name: string; action: string; reason: string }[] };
    expect(plan.steps[0]).toMatchObject({ name: 'clip', action: 'replace' });
    expect(plan.steps[0]?.reason).toMatch(/prompt/);
    expect(plan.steps[0]?.reason).toMatch(/size/);
  });
});

describe('outputs on disk the lock does not know', () => {
  it('a create that would replace them is refused before it pays, saying how to keep them; --force moves them aside', async () => {
    const dir = await tempProject({
      'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  clip: { prompt: A field. }\n  fresh: { prompt: A road. }\n',
      // Left by earlier paid jobs whose lock was lost.
      'out/clip.mp4': 'earlier bytes',
    });
    const r = await vidbuild(['apply', '--yes', '--json', '--backend', 'emulator'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'clip: out/clip.mp4 exists but videos.lock does not record it as vidbuild\'s; the new job would replace it, so nothing was done: move it away, adopt the job that made it with `vidbuild import clip VIDEO_ID`, or pass --force to move it aside\n',
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'run-refused', code: 'output-not-ours' });
    expect(await fsp.readdir(path.join(dir, 'out'))).toEqual(['clip.mp4']);
    expect((await fsp.stat(path.join(dir, 'videos.lock')).catch(() => undefined))?.isFile() ?? false).toBe(false);

    const forced = await vidbuild(['apply', '--yes', '--force', '--backend', 'emulator'], dir);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(forced.stderr).toContain("warning: clip: out/clip.mp4 is not vidbuild's; --force moves it aside");
    const aside = (await fsp.readdir(path.join(dir, 'out'))).find((f) => /^clip\.moved-\d{8}T\d{6}Z\.mp4$/.test(f));
    expect(aside).toBeDefined();
    expect(await fsp.readFile(path.join(dir, 'out', aside ?? ''), 'utf8')).toBe('earlier bytes');
    expect(forced.stdout).toContain(`moved out/clip.mp4 aside to out/${aside}`);
  });
});
