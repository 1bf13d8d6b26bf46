#!/usr/bin/env node
// A real S3-compatible server on 127.0.0.1 for tests, .ci/run and local
// trials of `remote:`: @20minutes/s3rver (a dev dependency), storing objects
// in a folder. Why this server: see README "Team and CI". It implements
// multipart upload and strongly consistent listing, but not conditional
// writes (If-None-Match on PutObject is ignored), which is why vidbuild's
// shared lock does not depend on them.
//
//   node tools/s3-server.mjs --dir DIR [--bucket NAME]... [--port N]
//
// Prints one JSON line {"endpoint": "http://127.0.0.1:PORT"} once listening.
// Exits when its standard input closes (the test or script that started it
// went away), so no server outlives its owner. Credentials: S3RVER / S3RVER.
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import S3rver from '@20minutes/s3rver';

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
