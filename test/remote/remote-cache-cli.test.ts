import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, expectLockMatchesDisk, posts, readLock, tempProject, vidbuild } from '../apply/rig.js';
import { s3Server } from './s3-server.js';
import { cloneOf, teamManifest } from './team-project.js';

describe('the remote cache between two clones', () => {
  it('clone B restores all 20 of clone A’s targets from the bucket with 0 paid requests, after the API’s copies expired', async () => {
    const s3 = await s3Server();
    let skewMs = 0;
    const emu = await emulator({ now: () => Date.now() + skewMs });
    const env = cliEnv(s3.env);
    const a = await tempProject({ 'videos.yaml': teamManifest(20) });
    const first = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], a, env);
    expect(first.code, first.stderr).toBe(0);
    expect(posts(emu)).toBe(20);
    expect(first.stdout).toMatch(/remote s3:\/\/team\/proj: pushed 20 assets/);
    // The API's copies are gone: only the bucket has the bytes now.
    skewMs = 2 * 3600_000;

    // B has the committed lock: a pull restores every output from the bucket.
    const b = await cloneOf(a, true);
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], b, env);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await expectLockMatchesDisk(b)).toBe(20);
    expect(await fsp.readFile(path.join(b, 'videos.lock'), 'utf8')).toBe(await fsp.readFile(path.join(a, 'videos.lock'), 'utf8'));

    // C starts from nothing but the manifest: the plan shows $0 restores, apply pays nothing.
    const c = await cloneOf(a, false);
    const planned = await vidbuild(['plan'], c, env);
    expect(planned.stdout).toMatch(/restore from remote cache/);
    const applied = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], c, env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/restore from remote cache/);
    expect(posts(emu)).toBe(20);
    expect(await expectLockMatchesDisk(c)).toBe(20);
    const lockA = await readLock(a);
    const lockC = await readLock(c);
    for (const [name, t] of Object.entries(lockA.videos)) expect(lockC.videos[name]?.job.jobId).toBe(t.job.jobId);
  }, 120_000);

  it('a wrong key or a missing bucket: one clear line, nothing paid, and --remote off pays anyway', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const dir = await tempProject({ 'videos.yaml': teamManifest(2) });
    // plan says it could not ask the remote, in the JSON document too (a bot reading it must not think $0.80 is the truth).
    const refusing = cliEnv({ ...s3.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    const planned = await vidbuild(['plan', '--json'], dir, refusing);
    expect(planned.code, planned.stderr).toBe(0);
    const doc = JSON.parse(planned.stdout) as { warnings: { code: string; message: string }[] };
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 'remote-unavailable', message: expect.stringMatching(/refused the credentials.*does not count what the remote cache holds/) })]);
    expect(planned.stdout + planned.stderr).not.toContain('not-the-secret');
    const text = await vidbuild(['plan'], dir, refusing);
    expect(text.stderr).toMatch(/^warning: .*refused the credentials.*does not count what the remote cache holds/m);
    const wrong = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir, refusing);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the credentials/);
    expect(wrong.stderr).toMatch(/2 targets need new jobs and the remote cache could not be checked .*--remote off/);
    expect(wrong.stderr).not.toContain('not-the-secret');
    const absent = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL, '--remote', 's3://no-such-bucket/x'], dir, cliEnv(s3.env));
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/bucket does not exist/);
    expect(posts(emu)).toBe(0);
    const anyway = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL, '--remote', 'off'], dir, cliEnv(s3.env));
    expect(anyway.code, anyway.stderr).toBe(0);
    expect(posts(emu)).toBe(2);
    // Outputs gone and the remote refusing us: pull still restores from the local cache, with one warning.
    await fsp.rm(path.join(dir, 'out'), { recursive: true });
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], dir, cliEnv({ ...s3.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^warning: remote s3:\/\/team\/proj .*refused the credentials.*; using the local cache only$/)]);
    expect(await expectLockMatchesDisk(dir)).toBe(2);
    expect(posts(emu)).toBe(2);
  }, 60_000);

  it('the server stopped mid-run: pushes fail as one warning, every output and the lock are kept, push sends them later', async () => {
    const s3 = await s3Server();
    const emu = await emulator({ jobSeconds: 1.5 });
    const env = cliEnv(s3.env);
    const dir = await tempProject({ 'videos.yaml': teamManifest(3) });
    const child = vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir, env);
    // Stop the bucket once the jobs are paid for (they are then in flight).
    for (let i = 0; i < 200 && posts(emu) < 3; i++) await new Promise((r) => setTimeout(r, 25));
    await s3.stop();
    const run = await child;
    expect(run.code, run.stderr).toBe(0);
    expect(await expectLockMatchesDisk(dir)).toBe(3);
    const warnings = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => /could not push to the remote cache/.test(l));
    expect(warnings).toHaveLength(1);
    expect(run.stdout).toMatch(/3 entries not pushed/);
  }, 60_000);
});
