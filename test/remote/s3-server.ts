import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';
import { repoRoot } from '../apply/rig.js';
import { parseRemoteUrl } from '../../src/manifest/remote-url.js';
import { createS3ObjectStore } from '../../src/remote/s3-object-store.js';
import type { ObjectStore } from '../../src/remote/object-store.js';

/**
 * A real S3-compatible server (tools/s3-server.mjs: s3rver) on 127.0.0.1,
 * one per test, in its own temp folder, with the buckets asked for. It is a
 * child process so a test can stop it mid-run; it also exits by itself when
 * the test process goes away (its stdin closes).
 */
export interface RunningS3 {
  readonly endpoint: string;
  /** The environment a CLI needs to reach it: endpoint and the server's credentials. */
  readonly env: Readonly<Record<string, string>>;
  /** The folder holding the objects (`<dir>/<bucket>/...`). */
  readonly dir: string;
  stop(): Promise<void>;
}

export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';

export async function s3Server(buckets: readonly string[] = ['team']): Promise<RunningS3> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-s3-'));
  // s3rver makes a listing's continuation token with DES, which OpenSSL 3 has only in its
  // legacy provider: without it, any listing that stops short of the end (the probe's
  // one-key listing of a non-empty prefix, a page of 1,000) is a 500.
  const args = ['--openssl-legacy-provider', path.join(repoRoot, 'tools', 's3-server.mjs'), '--dir', dir, ...buckets.flatMap((b) => ['--bucket', b])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { endpoint: string }).endpoint));
    child.once('exit', (code) => reject(new Error(`s3 server exited with ${code} before listening`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  onTestFinished(async () => {
    await stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });
  return {
    endpoint,
    dir,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      AWS_REGION: 'us-east-1',
      // Keep a developer's own ~/.aws out of the tests.
      AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
    },
    stop,
  };
}

/** The project's own object store on `url` in this server: what a test reads or plants in the bucket. */
export function remoteStore(s3: RunningS3, url: string): ObjectStore {
  const location = parseRemoteUrl(url);
  if (!location.ok) throw new Error(location.error);
  // The SDK's default chain reads these; each test file has its own worker.
  process.env['AWS_ACCESS_KEY_ID'] = s3.env['AWS_ACCESS_KEY_ID'];
  process.env['AWS_SECRET_ACCESS_KEY'] = s3.env['AWS_SECRET_ACCESS_KEY'];
  return createS3ObjectStore({ location: location.value, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
}

/**
 * Deletes the remote cache's index under `url` (as `gc --remote` or a
 * failed push would leave it), so what a test sees next is the shared lock
 * alone and not a restore from the remote. Returns how many entries went.
 */
export async function dropRemoteIndex(s3: RunningS3, url: string): Promise<number> {
  const store = remoteStore(s3, url);
  const listed = await store.list('index/');
  if (!listed.ok) throw new Error(listed.error.message);
  for (const object of listed.value) {
    const deleted = await store.delete(object.key);
    if (!deleted.ok) throw new Error(deleted.error.message);
  }
  return listed.value.length;
}

/**
 * Dates an object `ageMs` in the past as the server reports it (s3rver takes
 * LastModified from its file's mtime): what an object written that long ago
 * looks like to gc and to claim staleness.
 */
export async function ageObject(s3: RunningS3, url: string, key: string, ageMs: number): Promise<void> {
  const location = parseRemoteUrl(url);
  if (!location.ok) throw new Error(location.error);
  const { bucket, prefix } = location.value;
  const parts = `${prefix}${key}`.split('/');
  const last = parts.pop() ?? '';
  const when = new Date(Date.now() - ageMs);
  await fsp.utimes(path.join(s3.dir, bucket, ...parts, `${last}._S3rver_object`), when, when);
}
