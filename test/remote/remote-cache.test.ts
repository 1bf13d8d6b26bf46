import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LocalCache } from '../../src/cache/local-cache.js';
import type { Fingerprint, JobId, Sha256 } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';
import { parseRemoteUrl } from '../../src/manifest/remote-url.js';
import { RemoteCache, remoteIndexKey, remoteObjectKey } from '../../src/remote/remote-cache.js';
import { createS3ObjectStore } from '../../src/remote/s3-object-store.js';
import { s3Server, type RunningS3 } from './s3-server.js';

async function tempDir(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-rcache-'));
  onTestFinished(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

function storeFor(s3: RunningS3) {
  const location = parseRemoteUrl('s3://team/unit');
  if (!location.ok) throw new Error(location.error);
  process.env['AWS_ACCESS_KEY_ID'] = s3.env['AWS_ACCESS_KEY_ID'];
  process.env['AWS_SECRET_ACCESS_KEY'] = s3.env['AWS_SECRET_ACCESS_KEY'];
  return createS3ObjectStore({ location: location.value, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
}

const sha = (b: Buffer): Sha256 => createHash('sha256').update(b).digest('hex') as Sha256;
const FP = `sha256:${'a'.repeat(64)}` as Fingerprint;
const META = { name: 'intro' as TargetName, kind: 'generate', prompt: 'p', model: 'sora-2', size: '720x1280', seconds: 4, jobId: 'video_1' as JobId, createdAt: '2026-01-01T00:00:00.000Z' } as const;

async function cacheWith(bytes: Buffer): Promise<LocalCache> {
  const dir = await tempDir();
  const file = path.join(dir, 'a.mp4');
  await fsp.writeFile(file, bytes);
  const cache = new LocalCache(dir);
  await cache.addAsset(FP, META, 'video', file, sha(bytes), bytes.length);
  return cache;
}

describe('the remote cache over a real S3 server', () => {
  it('an entry round-trips: pushed objects first, index last; fetched into an empty cache, byte for byte; pushing again sends nothing', async () => {
    const store = storeFor(await s3Server());
    const bytes = Buffer.from('an mp4, pretend');
    const a = await cacheWith(bytes);
    expect(await new RemoteCache(store, a).pushEntry(FP)).toEqual({ ok: true, value: { objects: 1, bytes: bytes.length, index: true } });
    expect(await new RemoteCache(store, a).pushEntry(FP)).toEqual({ ok: true, value: { objects: 0, bytes: 0, index: false } });
    const b = new LocalCache(await tempDir());
    const fetched = await new RemoteCache(store, b).fetchEntry(FP);
    expect(fetched.ok && fetched.value?.jobId).toBe('video_1');
    expect(await b.lookup(FP)).toEqual(await a.lookup(FP));
    expect(await fsp.readFile(b.objectPath(sha(bytes)))).toEqual(bytes);
    expect(await fsp.readFile(b.indexPath(FP), 'utf8')).toBe(await fsp.readFile(a.indexPath(FP), 'utf8'));
  });

  it('a remote object whose bytes are not what its index says is refused and leaves nothing in the local cache', async () => {
    const s3 = await s3Server();
    const store = storeFor(s3);
    const bytes = Buffer.from('the real bytes');
    const a = await cacheWith(bytes);
    expect((await new RemoteCache(store, a).pushEntry(FP)).ok).toBe(true);
    // Same length, other content: only the hash can tell.
    const other = path.join(await tempDir(), 'other');
    await fsp.writeFile(other, Buffer.from('the fake bytes'));
    expect((await store.putFile(remoteObjectKey(sha(bytes)), other, bytes.length)).ok).toBe(true);
    const b = new LocalCache(await tempDir());
    const fetched = await new RemoteCache(store, b).fetchEntry(FP);
    expect(fetched).toMatchObject({ ok: false, error: { code: 'failed', message: expect.stringMatching(/does not match its sha256/) } });
    expect(await b.lookup(FP)).toBeUndefined();
    const shard = path.dirname(b.objectPath(sha(bytes)));
    expect(await fsp.readdir(shard).catch(() => [])).toEqual([]);
    // An index whose fingerprint is not its key's is not an entry.
    expect((await store.putText(remoteIndexKey(`sha256:${'b'.repeat(64)}` as Fingerprint), await fsp.readFile(a.indexPath(FP), 'utf8'))).ok).toBe(true);
    expect(await new RemoteCache(store, b).entry(`sha256:${'b'.repeat(64)}` as Fingerprint)).toEqual({ ok: true, value: undefined });
  });
});
