#!/usr/bin/env node
// A real S3-compatible server on 127.0.0.1 for tests, .ci/run and local
// trials of `remote:`: @20minutes/s3rver (a dev dependency), storing objects
// in a folder. Why this server: see README "Team and CI". It implements
// multipart upload and strongly consistent listing, but not conditional
// writes (If-None-Match on PutObject is ignored), which is why vidbuild's
// shared lock does not depend on them.
//
//   node --openssl-legacy-provider tools/s3-server.mjs --dir DIR [--bucket NAME]... [--port N]
//
// (s3rver makes listing continuation tokens with DES, in OpenSSL 3's legacy provider only:
// without the flag a listing that stops short of the end answers 500.)
//
// Prints one JSON line {"endpoint": "http://127.0.0.1:PORT"} once listening.
// Exits when its standard input closes (the test or script that started it
// went away), so no server outlives its owner. Credentials: S3RVER / S3RVER.
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import S3rver from '@20minutes/s3rver';
import FilesystemStore from '@20minutes/s3rver/lib/stores/filesystem.js';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

// s3rver 4.0.4's DeleteObject removes the folders it emptied with a *recursive* rm, after
// checking that they are empty: an object PUT into such a folder in between (another
// runner's claim in claims/<fingerprint>/) is deleted with it, after its PUT was answered
// 200. No S3 loses an acknowledged write; a plain rmdir, which refuses a folder that is
// no longer empty, keeps this one from doing so too.
FilesystemStore.prototype.deleteObject = async function deleteObject(bucket, key) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((resource) =>
      fsp.unlink(this.getResourcePath(bucket, key, resource)).catch((error) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    ),
  );
  const parts = key.split('/').slice(0, -1);
  for (; parts.length > 0; parts.pop()) {
    try {
      await fsp.rmdir(path.join(this.getBucketPath(bucket), ...parts));
    } catch {
      return; // not empty (or gone already): leave it
    }
  }
};

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    bucket: { type: 'string', multiple: true, default: [] },
    port: { type: 'string', default: '0' },
  },
});
if (values.dir === undefined) {
  process.stderr.write('s3-server: --dir is required\n');
  process.exit(2);
}
mkdirSync(values.dir, { recursive: true });
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(values.port),
  directory: values.dir,
  silent: true,
  // Path-style only: bucket names are never resolved as hosts.
  vhostBuckets: false,
  configureBuckets: values.bucket.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}` })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
