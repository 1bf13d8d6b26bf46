import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, posts, readLock, tempProject, vidbuild } from '../apply/rig.js';
import { s3Server } from './s3-server.js';

const MANIFEST = 'version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\noutDir: out\nvideos:\n  a: { prompt: "A lighthouse keeper waves." }\n';

/**
 * A claim with a job id is the team's record of which job those inputs
 * made: a new clone adopts it. It stops protecting anything when the
 * target itself replaces that job (--replace) or the job is gone from the
 * API: then it is taken over, and the next clone adopts the new job.
 */
describe('claims that name a job', () => {
  it('are adopted by a new clone, taken over by --replace and when the job is gone', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv({ ...s3.env, VIDBUILD_REMOTE: 's3://team/proj' });
    const clone = (): Promise<string> => tempProject({ 'videos.yaml': MANIFEST });
    const applyIn = (dir: string, extra: readonly string[] = []) => vidbuild(['apply', '--yes', '--json', '--base-url', emu.baseURL, ...extra], dir, env);
    const jobOf = async (dir: string): Promise<string | undefined> => (await readLock(dir)).videos['a']?.job.jobId;

    const a = await clone();
    expect((await applyIn(a)).code).toBe(0);
    const first = await jobOf(a);
    const b = await clone();
    const rb = await applyIn(b);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain('"state":"adopted"');
    expect(await jobOf(b)).toBe(first);
    expect(posts(emu)).toBe(1);

    // --replace: the claim names the job being replaced; a new one is made, and recorded.
    expect((await applyIn(a, ['--replace', 'a'])).code).toBe(0);
    const second = await jobOf(a);
    expect(second).not.toBe(first);
    expect(posts(emu)).toBe(2);
    const c = await clone();
    expect((await applyIn(c)).code).toBe(0);
    expect(await jobOf(c)).toBe(second);
    expect(posts(emu)).toBe(2);

    // The job deleted at the API: its claim protects nothing, the next clone makes a new one.
    expect((await fetch(`${emu.baseURL}/videos/${second}`, { method: 'DELETE', headers: { authorization: 'Bearer test' } })).status).toBe(200);
    const d = await clone();
    const rd = await applyIn(d);
    expect(rd.code, rd.stderr).toBe(0);
    expect(posts(emu)).toBe(3);
    expect([first, second]).not.toContain(await jobOf(d));
  });
});
