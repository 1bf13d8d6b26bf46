import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, tempProject, vidbuild } from '../apply/rig.js';
import { s3Server } from './s3-server.js';
import { teamManifest } from './team-project.js';

async function objectCount(dir: string): Promise<number> {
  const root = path.join(dir, '.vidbuild', 'cache', 'objects');
  let n = 0;
  for (const shard of await fsp.readdir(root)) n += (await fsp.readdir(path.join(root, shard))).filter((f) => !f.endsWith('.tmp')).length;
  return n;
}

describe('push, remote status and gc', () => {
  it('push sends what the remote lacks (and nothing twice); remote status says what is there; gc trims both caches, dry run first', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv(s3.env);
    const dir = await tempProject({ 'videos.yaml': teamManifest(3) });
    // Made without the remote: nothing pushed yet.
    const made = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL, '--remote', 'off'], dir, env);
    expect(made.code, made.stderr).toBe(0);

    const empty = await vidbuild(['remote', 'status'], dir, env);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/remote s3:\/\/team\/proj: 0 entries, 0 objects/);
    expect(empty.stdout).toMatch(/this manifest: 0 of 3 targets there/);

    const pushed = await vidbuild(['push'], dir, env);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/pushed 3 assets \(.+\) in 3 entries; 0 already there/);
    const again = await vidbuild(['push', '--json'], dir, env);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, entries: 3, pushedEntries: 0, objects: 0, bytes: 0, failed: 0 });

    const full = await vidbuild(['remote', 'status', '--json'], dir, env);
    const status = JSON.parse(full.stdout) as { entries: number; objects: number; bytes: number; targets: { target: string; there: boolean }[] };
    expect(status).toMatchObject({ ok: true, entries: 3, objects: 3 });
    expect(status.bytes).toBeGreaterThan(0);
    expect(status.targets.every((t) => t.there)).toBe(true);

    // A prompt edit: the old take leaves the lock, and is what gc may evict.
    await fsp.writeFile(path.join(dir, 'videos.yaml'), teamManifest(3).replace('Clip number 0 of', 'Clip number zero of'));
    const edited = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir, env);
    expect(edited.code, edited.stderr).toBe(0);
    expect(await objectCount(dir)).toBe(4);

    const dry = await vidbuild(['gc', '--max-size', '1B', '--keep-days', '0'], dir, env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/local cache: .+; would remove 1 entry and 1 object/);
    // Which one, by target, so a review of the dry run sees what goes.
    expect(dry.stdout).toMatch(/\n {2}- clip0 sha256:[0-9a-f]{12}, made \d{4}-\d{2}-\d{2}\n/);
    expect(dry.stdout).toMatch(/still above --max-size: the rest is used by videos.lock/);
    expect(dry.stdout).toMatch(/dry run: pass --yes to delete/);
    expect(await objectCount(dir)).toBe(4);
    const trimmed = await vidbuild(['gc', '--max-size', '1B', '--keep-days', '0', '--yes'], dir, env);
    expect(trimmed.code, trimmed.stderr).toBe(0);
    expect(trimmed.stdout).toMatch(/removed 1 entry and 1 object/);
    expect(await objectCount(dir)).toBe(3);
    // Recent entries are kept by default.
    const recent = await vidbuild(['gc', '--max-size', '1B', '--json'], dir, env);
    expect(JSON.parse(recent.stdout)).toMatchObject({ ok: true, dryRun: true, entries: 0, objects: 0 });

    const remoteGc = await vidbuild(['gc', '--remote', '--max-size', '1B', '--keep-days', '0', '--yes'], dir, env);
    expect(remoteGc.code, remoteGc.stderr).toBe(0);
    expect(remoteGc.stdout).toMatch(/remote s3:\/\/team\/proj: .+; removed 1 entry and 1 object/);
    expect(remoteGc.stdout).toContain("only videos.lock here was consulted: an entry another branch's or clone's lock still uses is kept only while newer than 0 days (--keep-days)");
    const after = JSON.parse((await vidbuild(['remote', 'status', '--json'], dir, env)).stdout) as { entries: number; targets: { there: boolean }[] };
    expect(after.entries).toBe(3);
    expect(after.targets.every((t) => t.there)).toBe(true);
  }, 120_000);

  it('push and remote status without a remote, or with the server down: one line, exit 1', async () => {
    const s3 = await s3Server();
    const dir = await tempProject({ 'videos.yaml': teamManifest(1).replace(/^remote: .*\n/m, '') });
    const none = await vidbuild(['push'], dir, cliEnv(s3.env));
    expect(none.code).toBe(1);
    expect(none.stderr.trim().split('\n')).toEqual(['no remote cache: set `remote: s3://bucket/prefix` in the manifest, VIDBUILD_REMOTE, or pass --remote']);
    await s3.stop();
    const down = await vidbuild(['remote', 'status', '--remote', 's3://team/proj'], dir, cliEnv(s3.env));
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/remote s3:\/\/team\/proj .*is unreachable/);
  }, 60_000);
});
