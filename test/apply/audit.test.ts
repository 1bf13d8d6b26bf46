import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ffmpegClip } from '../fixtures/images.js';
import { colorsFor } from '../../src/cli/colors.js';
import { describeEvent } from '../../src/cli/progress/describe-event.js';
import type { JobId } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';
import { apply, cliEnv, collect, emulator, expectLockMatchesDisk, posts, readLock, renderCacheDir, spawnCli, tempProject, vidbuild } from './rig.js';

/**
 * Regressions found by driving the CLI as a new user would, with inputs the
 * other suites did not try. Each runs the real CLI against the real emulator.
 */
const TWO = `version: 1
defaults: { model: sora-2, size: 720x1280, seconds: 4 }
outDir: out
videos:
  base:
    prompt: A lighthouse at dawn.
  night:
    remix: base
    prompt: The same lighthouse at night.
`;

function requests(emu: { stats(): { requests: Record<string, number> } }): number {
  return Object.values(emu.stats().requests).reduce((a, b) => a + b, 0);
}

describe('found by a user audit', () => {
  it('on the emulator the plan and the summary say costs are estimates and nothing is billed', async () => {
    const dir = await tempProject({ 'videos.yaml': TWO });
    const env = cliEnv({ VIDBUILD_EMULATOR_JOB_SECONDS: '0.3', VIDBUILD_EMULATOR_FPS: '4', VIDBUILD_EMULATOR_RENDER_CACHE: renderCacheDir });
    const r = await vidbuild(['apply', '--backend', 'emulator'], dir, env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the emulator is free, nothing is billed');
    expect(r.stdout).toMatch(/^Done: 2 created.*; est\. \$0\.80 at API prices, free on the emulator; /m);
    expect(r.stdout).not.toMatch(/; cost \$/);
    const json = await vidbuild(['apply', '--backend', 'emulator', '--json', '--replace', 'night'], dir, env);
    const finished = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; summary?: { cost: number; free: boolean } }).find((e) => e.type === 'run-finished');
    expect(finished?.summary).toMatchObject({ cost: 0.4, free: true });
  });

  it('a paid backend\'s summary says the cost is an estimate; --max-cost that is not a number is refused', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': TWO });
    const bad = await vidbuild(['apply', '--yes', '--max-cost', 'lots', '--base-url', emu.baseURL], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe("error: option '--max-cost <usd>' argument 'lots' is invalid. expected an amount in USD, 0 or more (e.g. 5 or 2.5)");
    expect(requests(emu)).toBe(0);
    const r = await apply(dir, emu);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Done: 2 created.*; est\. cost \$0\.80; /m);
  });

  it('pull restores deleted outputs from the cache with no API key and no request', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': TWO });
    expect((await apply(dir, emu)).code).toBe(0);
    await fsp.rm(path.join(dir, 'out'), { recursive: true });
    const before = requests(emu);
    const env = cliEnv();
    delete env['OPENAI_API_KEY'];
    const r = await vidbuild(['pull'], dir, env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 restored/);
    expect(await expectLockMatchesDisk(dir)).toBe(2);
    expect(requests(emu)).toBe(before);

    // Something that does need the API still asks for a key, suggesting the emulator.
    await fsp.rm(path.join(dir, '.vidbuild', 'cache'), { recursive: true });
    await fsp.rm(path.join(dir, 'out', 'base.mp4'));
    const keyless = await vidbuild(['pull'], dir, env);
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toMatch(/no API key: set OPENAI_API_KEY, or run offline with --backend emulator/);
  });

  it('prune after renaming a target keeps the job the renamed target still uses', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': TWO });
    expect((await apply(dir, emu)).code).toBe(0);
    const baseJob = (await readLock(dir)).videos['base']?.job.jobId;
    const renamed = TWO.replace('  base:', '  dawn:').replace('remix: base', 'remix: dawn');
    await fsp.writeFile(path.join(dir, 'videos.yaml'), renamed);
    const postsBefore = posts(emu);
    const restored = await apply(dir, emu);
    expect(restored.code).toBe(0);
    expect(posts(emu)).toBe(postsBefore); // from the cache, no new job
    expect((await readLock(dir)).videos['dawn']?.job.jobId).toBe(baseJob);

    const pruned = await vidbuild(['prune', '--yes', '--base-url', emu.baseURL], dir);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(`job ${baseJob} kept: a current target uses it`);
    expect(emu.stats().requests['DELETE /videos/{id}'] ?? 0).toBe(0);
    expect(existsSync(path.join(dir, 'out', 'base.mp4'))).toBe(false);
    expect((await readLock(dir)).videos['base']).toBeUndefined();

    // The remix of the renamed target can still be regenerated from it.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), renamed.replace('at night.', 'at midnight.'));
    const edited = await apply(dir, emu);
    expect(edited.stdout + edited.stderr).not.toMatch(/not found/);
    expect(edited.code).toBe(0);
  });

  it('import over a target that has a job names the job it replaces', async () => {
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': TWO });
    expect((await apply(dir, emu)).code).toBe(0);
    const lock = (await readLock(dir)).videos;
    const nightJob = lock['night']?.job.jobId ?? '';
    const baseJob = lock['base']?.job.jobId ?? '';
    const r = await vidbuild(['import', 'base', nightJob, '--force', '--base-url', emu.baseURL], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: base was job ${baseJob} (completed); it stays on the server but is no longer in videos.lock`);
  });

  it('status shows why a job failed (table and --json)', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `version: 1
videos:
  bad: { prompt: "A storm [[fail:moderation_blocked]]" }
  kid: { remix: bad, prompt: "After the storm" }
`,
    });
    const r = await apply(dir, emu);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/kid: skipped: source bad did not complete/);
    const json = await vidbuild(['status', '--json', '--base-url', emu.baseURL], dir);
    const rows = JSON.parse(json.stdout) as { target: string; status?: string; error?: { code: string; message: string } }[];
    expect(rows.find((x) => x.target === 'bad')).toMatchObject({ status: 'failed', error: { code: 'moderation_blocked' } });
    expect(rows.find((x) => x.target === 'kid')?.error).toBeUndefined();
    const table = await vidbuild(['status', '--base-url', emu.baseURL], dir);
    expect(table.stdout).toMatch(/^bad .* failed \(moderation_blocked\) /m);
  });

  it('Ctrl-C: jobs already created count as still running, not skipped; the re-run resumes them without a new job', async () => {
    const emu = await emulator({ jobSeconds: 4 });
    const dir = await tempProject({ 'videos.yaml': TWO.replace('remix: base', 'remix: base\n    prompt: x\n  solo:') });
    // base and solo start at once; night waits for base.
    const child = spawnCli(['apply', '--yes', '--base-url', emu.baseURL], dir);
    let submitted = 0;
    const done = collect(child, (line) => {
      if (/^\+ (base|solo): submitted/.test(line) && ++submitted === 2) child.kill('SIGINT');
    });
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/^Interrupted: 0 created, .*, 1 skipped, 2 still running; /m);
    const postsBefore = posts(emu);
    const again = await apply(dir, emu);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Done: 1 created, 2 resumed/m);
    expect(posts(emu)).toBe(postsBefore + 1); // only night, which never started
  });

  it('a job adopted after a lost response is not described as coming from an interrupted run', () => {
    const c = colorsFor(process.stdout, true);
    const name = 'a' as TargetName;
    const jobId = 'video_1' as JobId;
    const base = { type: 'job-reconciled', at: '2026-01-01T00:00:00.000Z', name, jobId } as const;
    expect(describeEvent({ ...base, after: 'lost-response' }, c)).toBe('↺ a: the request whose answer was lost did create job video_1; adopted it');
    expect(describeEvent({ ...base, after: 'interrupted-run' }, c)).toBe('↺ a: adopted job video_1 created by an interrupted run');
    expect(describeEvent({ ...base, jobId: undefined, after: 'lost-response' }, c)).toMatch(/created no job; sending it again$/);
  });

  it('an edit of an uploaded landscape clip in a portrait project: the lock records the shape the API made, with a warning', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `version: 1
defaults: { size: 720x1280, seconds: 4 }
videos:
  fix: { edit: { file: refs/wide.mp4 }, prompt: Remove the logo. }
`,
    });
    await fsp.mkdir(path.join(dir, 'refs'));
    ffmpegClip(path.join(dir, 'refs', 'wide.mp4'), 1280, 720, 4);
    const r = await apply(dir, emu);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning: fix: the API made a 1280x720 4 s video; the manifest asks for 720x1280 4 s');
    const entry = (await readLock(dir)).videos['fix'] as unknown as { size: string; seconds: number };
    expect(entry).toMatchObject({ size: '1280x720', seconds: 4 });
    // Still up to date afterwards (the plan compares requests, not shapes).
    const again = await apply(dir, emu);
    expect(again.stdout).toMatch(/No changes/);
  });

  it('an asset found expired at download becomes `regenerate` in the next plan (was: the same failing fetch forever)', async () => {
    let skewMs = 0;
    const emu = await emulator({ assetTtlSeconds: 60, now: () => Date.now() + skewMs });
    const dir = await tempProject({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: A short-lived clip. }\n' });
    expect((await apply(dir, emu)).code).toBe(0);
    // A lock entry that does not know its expiry (restored from the cache, imported), no output, no cache.
    const lockPath = path.join(dir, 'videos.lock');
    const lock = JSON.parse(await fsp.readFile(lockPath, 'utf8')) as { videos: { a: { job: { expiresAt?: string } } } };
    delete lock.videos.a.job.expiresAt;
    await fsp.writeFile(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
    await fsp.rm(path.join(dir, 'videos'), { recursive: true });
    await fsp.rm(path.join(dir, '.vidbuild', 'cache'), { recursive: true });
    skewMs = 120_000; // the emulator's clock passes the asset TTL

    const failed = await apply(dir, emu);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/asset-expired: .*the next plan regenerates it/);
    const plan = await vidbuild(['plan'], dir);
    expect(plan.stdout).toMatch(/-\/\+ a +regenerate .*expired at/);
    const postsBefore = posts(emu);
    const regenerated = await apply(dir, emu);
    expect(regenerated.code).toBe(0);
    expect(posts(emu)).toBe(postsBefore + 1);
    expect(await expectLockMatchesDisk(dir)).toBe(1);
  });

  it('apply --backend emulator while a standalone emulator serves the project\'s .vidbuild/emulator: one line naming it, nothing lost', async () => {
    const dir = await tempProject({ 'videos.yaml': TWO });
    const standalone = spawnCli(['emulator', '--port', '0', '--dir', '.vidbuild/emulator', '--fps', '4'], dir);
    const url = await new Promise<string>((resolve) => {
      standalone.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        const m = /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(chunk);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
    });
    const r = await vidbuild(['apply', '--backend', 'emulator'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`--backend emulator: state directory ${path.join(dir, '.vidbuild', 'emulator')} is in use by the emulator of pid ${standalone.pid} at ${url}`);
    expect(existsSync(path.join(dir, 'videos.lock'))).toBe(false);
    const stopped = new Promise<void>((resolve) => standalone.on('exit', () => resolve()));
    standalone.kill('SIGTERM');
    await stopped;
    expect(existsSync(path.join(dir, '.vidbuild', 'emulator', 'emulator.pid'))).toBe(false);
  });
});
