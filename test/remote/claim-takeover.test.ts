import { describe, expect, it } from 'vitest';
import { claimKey, claimsPrefix, serializeClaim } from '../../src/remote/claim-record.js';
import { cliEnv, emulator, posts, readLock, tempProject, vidbuild } from '../apply/rig.js';
import { dropRemoteIndex, remoteStore, s3Server } from './s3-server.js';

const MANIFEST = 'version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\noutDir: out\nvideos:\n  a: { prompt: "A lighthouse keeper waves." }\n';
const REMOTE = 's3://team/proj';

/**
 * The shared cache comes first: a clone restores what a teammate pushed,
 * and a run whose pushes succeed leaves no claim behind. A claim with a job
 * id outlives its run only when the push failed; then it is the team's
 * record of which job those inputs made, and a new clone adopts it. It
 * stops protecting anything when the target itself replaces that job
 * (--replace) or the job is gone from the API: then it is taken over.
 * Such claims are planted here as a runner whose push failed leaves them.
 */
describe('claims that name a job', () => {
  it('are adopted by a new clone, taken over by --replace and when the job is gone', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const store = remoteStore(s3, REMOTE);
    const env = cliEnv({ ...s3.env, VIDBUILD_REMOTE: REMOTE });
    const clone = (): Promise<string> => tempProject({ 'videos.yaml': MANIFEST });
    const applyIn = (dir: string, extra: readonly string[] = []) => vidbuild(['apply', '--yes', '--json', '--base-url', emu.baseURL, ...extra], dir, env);
    const targetOf = async (dir: string) => (await readLock(dir)).videos['a'];
    const jobOf = async (dir: string): Promise<string | undefined> => (await targetOf(dir))?.job.jobId;
    const claimsLeft = async (fingerprint: string): Promise<number> => {
      const listed = await store.list(claimsPrefix(fingerprint));
      if (!listed.ok) throw new Error(listed.error.message);
      return listed.value.length;
    };
    let planted = 0;
    const plantClaim = async (fingerprint: string, jobId: string): Promise<void> => {
      const claimId = `ci-runner-${++planted}`;
      const claim = { v: 1 as const, claimId, runId: 'ci-runner', host: 'ci-7', hostId: 'another-machine', pid: 4242, target: 'a', createdAt: new Date().toISOString(), jobId };
      expect((await store.putText(claimKey(fingerprint, claimId), serializeClaim(claim))).ok).toBe(true);
    };

    const a = await clone();
    const ra = await applyIn(a);
    expect(ra.code, ra.stderr).toBe(0);
    const first = await jobOf(a);
    const fingerprint = (await targetOf(a))?.fingerprint ?? '';
    expect(await claimsLeft(fingerprint)).toBe(0);
    const b = await clone();
    const rb = await applyIn(b);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain('restore from remote cache');
    expect(rb.stdout).toContain('"outcome":"fetched"');
    expect(rb.stdout).not.toContain('"type":"remote-claim"');
    expect(await jobOf(b)).toBe(first);
    expect(posts(emu)).toBe(1);

    // No cache entry, a claim naming the job: adopted, not paid again.
    expect(await dropRemoteIndex(s3, REMOTE)).toBe(1);
    await plantClaim(fingerprint, first ?? '');
    const c = await clone();
    const rc = await applyIn(c);
    expect(rc.code, rc.stderr).toBe(0);
    expect(rc.stdout).toContain('"state":"adopted"');
    expect(rc.stdout).not.toContain('remote cache');
    expect(await jobOf(c)).toBe(first);
    expect(posts(emu)).toBe(1);

    // --replace: the index and the claim name the job being replaced; a new one is made.
    const rr = await applyIn(a, ['--replace', 'a']);
    expect(rr.code, rr.stderr).toBe(0);
    expect(rr.stdout).not.toContain('"state":"adopted"');
    const second = await jobOf(a);
    expect(second).not.toBe(first);
    expect(posts(emu)).toBe(2);
    expect(await claimsLeft(fingerprint)).toBe(0);

    // The claimed job deleted at the API: its claim protects nothing, the next clone makes a new one.
    expect(await dropRemoteIndex(s3, REMOTE)).toBe(1);
    await plantClaim(fingerprint, second ?? '');
    expect((await fetch(`${emu.baseURL}/videos/${second}`, { method: 'DELETE', headers: { authorization: 'Bearer test' } })).status).toBe(200);
    const d = await clone();
    const rd = await applyIn(d);
    expect(rd.code, rd.stderr).toBe(0);
    expect(rd.stdout).not.toContain('"state":"adopted"');
    expect(posts(emu)).toBe(3);
    expect([first, second]).not.toContain(await jobOf(d));
    expect(await claimsLeft(fingerprint)).toBe(0);
  });
});
