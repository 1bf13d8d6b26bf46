import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, expectLockMatchesDisk, posts, readLock, tempProject, vidbuild } from '../apply/rig.js';
import { remoteObjectKey } from '../../src/remote/remote-cache.js';
import type { ObjectStore } from '../../src/remote/object-store.js';
import { remoteStore, s3Server } from './s3-server.js';
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

  it('an object corrupted with its size intact is re-uploaded: by the clone whose fetch found it (once it has the bytes), and by push', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv(s3.env);
    const a = await tempProject({ 'videos.yaml': teamManifest(2) });
    const made = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], a, env);
    expect(made.code, made.stderr).toBe(0);
    const store = remoteStore(s3, 's3://team/proj');
    const lock = await readLock(a);
    const [first, second] = Object.values(lock.videos).map((t) => t.assets['video'] as { sha256: string; bytes: number });
    if (first === undefined || second === undefined) throw new Error('two locked videos expected');
    await corrupt(store, first);
    await corrupt(store, second);

    // B's pull meets the corrupt object, falls back to the API, and puts the verified bytes back.
    const b = await cloneOf(a, true);
    const pulled = await vidbuild(['pull', '--base-url', emu.baseURL], b, env);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(`${pulled.stdout}\n${pulled.stderr}`).toMatch(/does not match its sha256/);
    expect(await expectLockMatchesDisk(b)).toBe(2);
    expect(await remoteSha(store, first.sha256)).toBe(first.sha256);
    expect(await remoteSha(store, second.sha256)).toBe(second.sha256);

    // Corrupted again: push from A, which fetched nothing, sees the ETag is not its bytes' MD5.
    await corrupt(store, first);
    const pushed = await vidbuild(['push', '--json'], a, env);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ ok: true, objects: 1, failed: 0 });
    expect(await remoteSha(store, first.sha256)).toBe(first.sha256);
    // A clean clone now restores it without the fallback.
    const c = await cloneOf(a, true);
    const clean = await vidbuild(['pull', '--base-url', emu.baseURL], c, env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(`${clean.stdout}\n${clean.stderr}`).not.toMatch(/does not match/);
  }, 90_000);
});

/** Overwrites a remote object with other bytes of the same size (HEAD still says it is there). */
async function corrupt(store: ObjectStore, asset: { readonly sha256: string; readonly bytes: number }): Promise<void> {
  const put = await store.putText(remoteObjectKey(asset.sha256), 'x'.repeat(asset.bytes));
  if (!put.ok) throw new Error(put.error.message);
}

async function remoteSha(store: ObjectStore, sha256: string): Promise<string> {
  const got = await store.getStream(remoteObjectKey(sha256));
  if (!got.ok || got.value === undefined) throw new Error(`no object ${sha256}`);
  const hash = createHash('sha256');
  for await (const chunk of got.value.body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
