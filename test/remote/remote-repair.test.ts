import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, expectLockMatchesDisk, posts, tempProject, vidbuild } from '../apply/rig.js';
import { s3Server } from './s3-server.js';
import { cloneOf, teamManifest } from './team-project.js';

describe('what a clone brings from the remote is the team’s again', () => {
  it('pull records the entries it restored in the local index: push from that clone seeds a new bucket with all of them', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv(s3.env);
    const a = await tempProject({ 'videos.yaml': teamManifest(3) });
    const made = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], a, env);
    expect(made.code, made.stderr).toBe(0);
    const b = await cloneOf(a, true);
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], b, env);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await expectLockMatchesDisk(b)).toBe(3);
    expect(posts(emu)).toBe(3);

    const seeded = await vidbuild(['push', '--remote', 's3://team/fresh', '--json'], b, env);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({ ok: true, entries: 3, pushedEntries: 3, objects: 3, failed: 0 });
    const status = JSON.parse((await vidbuild(['remote', 'status', '--remote', 's3://team/fresh', '--json'], b, env)).stdout) as { entries: number; targets: { there: boolean }[] };
    expect(status.entries).toBe(3);
    expect(status.targets.every((t) => t.there)).toBe(true);
  }, 90_000);
});
