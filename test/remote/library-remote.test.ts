import { describe, expect, it } from 'vitest';
import { apply, plan } from '../../src/api.js';
import { cliEnv, emulator, posts, tempProject } from '../apply/rig.js';
import { s3Server } from './s3-server.js';
import { teamManifest } from './team-project.js';

/** The library plans as `vidbuild plan` does: a clip a teammate pushed is a $0 fetch, a remote that refuses us is a warning. */
describe('the library through the remote', () => {
  it('plan() counts what the remote cache holds, and says when it could not ask', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    // The SDK's default credential chain reads the process environment.
    Object.assign(process.env, s3.env);
    const env = cliEnv({ ...s3.env, VIDBUILD_REMOTE: 's3://team/proj' });
    const a = await tempProject({ 'videos.yaml': teamManifest(3) });
    const applied = await apply({ cwd: a, env, baseURL: emu.baseURL });
    expect(applied).toMatchObject({ ok: true, exitCode: 0 });
    expect(posts(emu)).toBe(3);

    const b = await tempProject({ 'videos.yaml': teamManifest(3) });
    const shared = await plan({ cwd: b, env });
    if (!shared.ok) throw new Error(JSON.stringify(shared.diagnostics));
    expect(shared.plan.summary.counts).toMatchObject({ create: 0, fetch: 3 });
    expect(shared.plan.summary.cost).toBe(0);
    expect(shared.warnings).toEqual([]);

    const offline = await plan({ cwd: b, env, remote: 'off' });
    if (!offline.ok) throw new Error('plan failed');
    expect(offline.plan.summary.counts).toMatchObject({ create: 3 });

    await s3.stop();
    const down = await plan({ cwd: b, env });
    if (!down.ok) throw new Error('plan failed');
    expect(down.plan.summary.counts).toMatchObject({ create: 3 });
    expect(down.warnings).toEqual([expect.objectContaining({ code: 'remote-unavailable', severity: 'warning' })]);
    expect(down.warnings[0]?.message).toMatch(/does not count what the remote cache holds/);
  }, 60_000);
});
