// Remote cache benchmark (issue 10). Run with `npm run bench remote` (builds first).
//
// One asset of 5 MB and one of 200 MB, each pushed to a real S3-compatible
// server on 127.0.0.1 (tools/s3-server.mjs: s3rver, its own process) and
// pulled back into an empty cache, through the same code apply and pull use
// (remote/remote-cache.ts over the SDK: multipart upload of 8 MiB parts, two
// in flight; a streamed, hashed download). Each size runs in a fresh child
// process so its peak RSS (getrusage maxrss) is its own. The claim: memory
// is flat, the 200 MB peak within 1.5x of the 5 MB one.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1024 * 1024;
const SIZES = [5, 200];

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4], process.argv[5]);
} else {
  await main();
}

async function main() {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-bench-remote-'));
  const server = spawn(process.execPath, [path.join(root, 'tools', 's3-server.mjs'), '--dir', path.join(work, 's3'), '--bucket', 'bench'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve) => createInterface({ input: server.stdout }).once('line', resolve));
    const { endpoint } = JSON.parse(line);
    const rows = [];
    for (const size of SIZES) {
      await writeAsset(path.join(work, `run-${size}`, 'a'), size);
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(size), endpoint, path.join(work, `run-${size}`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) throw new Error(`child for ${size} MB failed (${r.status})`);
      rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
    console.log('size     push s   pull s   push MB/s  pull MB/s  peak RSS');
    for (const r of rows) {
      console.log(`${String(r.sizeMb).padStart(4)} MB  ${r.pushS.toFixed(2).padStart(6)}  ${r.pullS.toFixed(2).padStart(7)}  ${(r.sizeMb / r.pushS).toFixed(1).padStart(9)}  ${(r.sizeMb / r.pullS).toFixed(1).padStart(9)}  ${r.rssMb.toFixed(0).padStart(5)} MB`);
    }
    const [small, big] = rows;
    const ratio = big.rssMb / small.rssMb;
    console.log(`peak RSS 200 MB / 5 MB: ${ratio.toFixed(2)}x (limit 1.5x) ${ratio <= 1.5 ? 'ok' : 'FAIL'}`);
    process.exitCode = ratio <= 1.5 ? 0 : 1;
  } finally {
    server.kill('SIGKILL');
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** `asset.mp4` of random bytes, written and hashed 1 MiB at a time, and its sha256 beside it. */
async function writeAsset(dir, sizeMb) {
  await fsp.mkdir(dir, { recursive: true });
  const hash = createHash('sha256');
  const out = createWriteStream(path.join(dir, 'asset.mp4'));
  for (let i = 0; i < sizeMb; i++) {
    const chunk = randomBytes(MB);
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  const sha256 = hash.digest('hex');
  await fsp.writeFile(path.join(dir, 'asset.sha256'), sha256);
  const { LocalCache } = await import(path.join(root, 'dist/cache/local-cache.js'));
  const meta = { name: 'asset', kind: 'generate', prompt: 'bench', model: 'sora-2', size: '720x1280', seconds: 4, jobId: 'video_bench', createdAt: new Date().toISOString() };
  await new LocalCache(dir).addAsset(fingerprintOf(sizeMb), meta, 'video', path.join(dir, 'asset.mp4'), sha256, sizeMb * MB);
}

function fingerprintOf(sizeMb) {
  return `sha256:${createHash('sha256').update(`bench-${sizeMb}`).digest('hex')}`;
}

async function child(sizeMb, endpoint, dir) {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_CONFIG_FILE = path.join(dir, 'no-aws-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'no-aws-credentials');
  const { LocalCache } = await import(path.join(root, 'dist/cache/local-cache.js'));
  const { RemoteCache } = await import(path.join(root, 'dist/remote/remote-cache.js'));
  const { createS3ObjectStore } = await import(path.join(root, 'dist/remote/s3-object-store.js'));
  const { parseRemoteUrl } = await import(path.join(root, 'dist/manifest/remote-url.js'));
  const location = parseRemoteUrl(`s3://bench/size-${sizeMb}`);
  const store = createS3ObjectStore({ location: location.value, endpoint, region: 'us-east-1', forcePathStyle: true });

  // The parent made the asset and its local cache entry: that is not this process's memory.
  const a = path.join(dir, 'a');
  const sha256 = await fsp.readFile(path.join(a, 'asset.sha256'), 'utf8');
  const fp = fingerprintOf(sizeMb);

  let t = performance.now();
  const pushed = await new RemoteCache(store, new LocalCache(a)).pushEntry(fp);
  if (!pushed.ok || pushed.value.objects !== 1) throw new Error(`push failed: ${JSON.stringify(pushed)}`);
  const pushS = (performance.now() - t) / 1000;

  const b = path.join(dir, 'b');
  await fsp.mkdir(b, { recursive: true });
  t = performance.now();
  const pulled = await new RemoteCache(store, new LocalCache(b)).fetchEntry(fp);
  if (!pulled.ok || pulled.value === undefined) throw new Error(`pull failed: ${JSON.stringify(pulled)}`);
  const pullS = (performance.now() - t) / 1000;
  const restored = await new LocalCache(b).restoreTo(fp, 'video', path.join(b, 'asset.mp4'));
  if (!restored.ok || restored.sha256 !== sha256) throw new Error('restored bytes differ');

  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ sizeMb, pushS, pullS, rssMb })}\n`);
}
