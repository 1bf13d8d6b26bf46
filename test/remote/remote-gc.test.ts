import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, tempProject, vidbuild } from '../apply/rig.js';
import { remoteObjectKey } from '../../src/remote/remote-cache.js';
import { serializeClaim, type ClaimRecord } from '../../src/remote/claim-record.js';
import { ageObject, remoteStore, s3Server } from './s3-server.js';
import { teamManifest } from './team-project.js';

const URL = 's3://team/proj';

/** An object under `objects/` that no index names, as a push leaves it between its objects and its index. */
async function plantUnindexed(store: ReturnType<typeof remoteStore>, body: string): Promise<string> {
  const sha = createHash('sha256').update(body).digest('hex');
  const put = await store.putText(remoteObjectKey(sha), body);
  if (!put.ok) throw new Error(put.error.message);
  return remoteObjectKey(sha);
}

async function keys(store: ReturnType<typeof remoteStore>, prefix: string): Promise<string[]> {
  const listed = await store.list(prefix);
  if (!listed.ok) throw new Error(listed.error.message);
  return listed.value.map((o) => o.key).sort();
}

describe('gc --remote', () => {
  it('keeps an object no index names while it is younger than 1 hour (a push in progress writes its index last); an older one goes', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv(s3.env);
    const dir = await tempProject({ 'videos.yaml': teamManifest(2) });
    const made = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir, env);
    expect(made.code, made.stderr).toBe(0);
    const store = remoteStore(s3, URL);
    const indexed = await keys(store, 'objects/');
    expect(indexed).toHaveLength(2);
    // Another clone's push, its objects up and its index not yet written.
    const inFlight = await plantUnindexed(store, 'a teammate upload in progress');
    // What an interrupted push left two hours ago.
    const stale = await plantUnindexed(store, 'an interrupted push, long ago');
    await ageObject(s3, URL, stale, 2 * 3600_000);

    const dry = await vidbuild(['gc', '--remote', '--keep-days', '0', '--json'], dir, env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ ok: true, dryRun: true, entries: 0, objects: 1, young: 1 });
    const gc = await vidbuild(['gc', '--remote', '--keep-days', '0', '--yes'], dir, env);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/removed 0 entries and 1 object/);
    expect(gc.stdout).toMatch(/kept 1 object no index names yet .*younger than 1 hour/);
    expect(await keys(store, 'objects/')).toEqual([...indexed, inFlight].sort());
    const status = JSON.parse((await vidbuild(['remote', 'status', '--json'], dir, env)).stdout) as { targets: { there: boolean }[] };
    expect(status.targets.every((t) => t.there)).toBe(true);
  }, 60_000);

  it('removes claims the index has settled or that expired on done inputs, and reports them; keeps any that could still matter', async () => {
    const s3 = await s3Server();
    const emu = await emulator();
    const env = cliEnv(s3.env);
    const dir = await tempProject({ 'videos.yaml': teamManifest(1) });
    const made = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir, env);
    expect(made.code, made.stderr).toBe(0);
    const store = remoteStore(s3, URL);
    const [indexKey] = await keys(store, 'index/');
    const hex = /^index\/([0-9a-f]{64})\.json$/.exec(indexKey ?? '')?.[1] ?? '';
    const index = await store.getText(indexKey ?? '');
    const jobId = (JSON.parse((index.ok && index.value) || '{}') as { jobId: string }).jobId;
    const other = 'f'.repeat(64);
    const claim = async (fpHex: string, id: string, ageMs: number, job?: string): Promise<string> => {
      const record: ClaimRecord = { v: 1, claimId: id, runId: id, host: 'elsewhere', hostId: 'elsewhere', pid: 1, target: 'clip0', createdAt: new Date(Date.now() - ageMs).toISOString(), ...(job === undefined ? {} : { jobId: job }) };
      const key = `claims/${fpHex}/${id}.json`;
      const put = await store.putText(key, serializeClaim(record));
      if (!put.ok) throw new Error(put.error.message);
      return key;
    };
    const settled = await claim(hex, 'left-by-failed-push', 3600_000, jobId);
    const replacing = await claim(hex, 'a-replace-job', 3600_000, 'video_other');
    const expired = await claim(hex, 'killed-long-ago', 20 * 60_000);
    const live = await claim(hex, 'in-flight', 1_000);
    const undone = await claim(other, 'killed-not-done', 20 * 60_000);

    const dry = await vidbuild(['gc', '--remote', '--json'], dir, env);
    expect(dry.code, dry.stderr).toBe(0);
    const doc = JSON.parse(dry.stdout) as { claims: { key: string; why: string }[]; claimsKept: number };
    expect(doc.claims.map((c) => [c.key, c.why]).sort()).toEqual([[expired, 'expired-done'], [settled, 'settled']].sort());
    expect(doc.claimsKept).toBe(3);
    const gc = await vidbuild(['gc', '--remote', '--yes'], dir, env);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/shared lock: removed 2 claims that protect nothing any more, keeping 3/);
    expect(gc.stdout).toContain(`${settled} (clip0): its job is in the index`);
    expect(await keys(store, 'claims/')).toEqual([replacing, live, undone].sort());
  }, 60_000);
});
