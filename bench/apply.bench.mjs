// apply benchmark (issue 4, item 11). Run with `npm run bench apply` (builds first).
//
// 1. N independent jobs of T simulated seconds at concurrency C on the emulator:
//    vidbuild's makespan against the ideal ceil(N/C)·T, and side by side the
//    same work done the way a user would without vidbuild: a p-limit loop over
//    SDK create + fixed-interval polling + download. Requests per job from the
//    emulator's own counters.
// 2. A no-op apply over 1,000 up-to-date targets: must make 0 requests.
//
// The emulator renders real MP4s on first download; that CPU work is an
// artefact of the emulator (the real API serves finished files), so a warm-up
// pass fills a render cache in the temp dir that both runs share. The first
// run on a machine pays for it once (~30 s on 2 cores).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import pLimit from 'p-limit';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startEmulator } = await import(path.join(root, 'dist/emulator/server.js'));
const { loadManifest } = await import(path.join(root, 'dist/manifest/load-manifest.js'));
const { planBuild } = await import(path.join(root, 'dist/plan/planner.js'));
const { buildJobRequest } = await import(path.join(root, 'dist/plan/job-request.js'));
const { writeLockfile } = await import(path.join(root, 'dist/lock/write-lockfile.js'));
const { emptyLockfile } = await import(path.join(root, 'dist/lock/lockfile.js'));

const N = Number(process.env.BENCH_N ?? 200);
const C = Number(process.env.BENCH_C ?? 20);
const T = Number(process.env.BENCH_T ?? 2.5);
/**
 * The naive loop polls at a fixed interval, like OpenAI's guide (every 10–20 s
 * for jobs of a minute or more). Two intervals: one that divides T exactly
 * (the loop's lucky best case: it looks right when the job ends) and one
 * that does not (what happens when durations are not known in advance).
 */
const NAIVE_POLLS_MS = (process.env.BENCH_NAIVE_POLL_MS ?? `${Math.round((T * 1000) / 5)},${Math.round((T * 1000) / 3.6)}`)
  .split(',')
  .map(Number);
const NOOP_TARGETS = 1000;
const renderCacheDir = path.join(os.tmpdir(), 'vidbuild-bench-apply-renders');
const prompt = (i) => `Benchmark clip number ${i}: a paper boat on a pond.`;
const KEY = 'sk-bench-not-a-real-key';

async function tmp(prefix) {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

function totalRequests(stats) {
  return Object.values(stats.requests).reduce((a, b) => a + b, 0);
}

async function warmRenders() {
  const marker = path.join(renderCacheDir, `warm-${N}`);
  try {
    await fsp.access(marker);
    return;
  } catch {
    // cold: fill it
  }
  const dir = await tmp('vidbuild-bench-warm-');
  const emu = await startEmulator({ dir, port: 0, jobSeconds: 0.01, fps: 4, renderCacheDir });
  const client = new OpenAI({ apiKey: KEY, baseURL: emu.baseURL });
  const limit = pLimit(2);
  const started = Date.now();
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      limit(async () => {
        const v = await client.videos.create({ prompt: prompt(i), model: 'sora-2', size: '720x1280', seconds: '4' });
        for (;;) {
          const r = await client.videos.retrieve(v.id);
          if (r.status === 'completed') break;
          await new Promise((res) => setTimeout(res, 20));
        }
        const res = await client.videos.downloadContent(v.id, { variant: 'video' });
        await res.arrayBuffer();
      }),
    ),
  );
  await emu.stop();
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.writeFile(marker, '');
  console.log(`(warmed the emulator's render cache: ${N} clips in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function runCli(args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/vidbuild.js'), ...args], {
      cwd,
      env: { ...process.env, OPENAI_API_KEY: KEY, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function vidbuildRun() {
  const dir = await tmp('vidbuild-bench-apply-');
  const emuDir = await tmp('vidbuild-bench-emu-');
  const emu = await startEmulator({ dir: emuDir, port: 0, jobSeconds: T, fps: 4, renderCacheDir });
  const lines = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: out', 'videos:'];
  for (let i = 0; i < N; i++) lines.push(`  clip${i}: { prompt: "${prompt(i)}" }`);
  await fsp.writeFile(path.join(dir, 'videos.yaml'), `${lines.join('\n')}\n`);
  const started = Date.now();
  const r = await runCli(['apply', '--yes', '--json', '--base-url', emu.baseURL, '--concurrency', String(C), '--download-concurrency', '8'], dir);
  const ms = Date.now() - started;
  if (r.code !== 0) throw new Error(`vidbuild apply failed (${r.code}): ${r.stderr}\n${r.stdout.slice(-2000)}`);
  const stats = emu.stats();
  await emu.stop();
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rm(emuDir, { recursive: true, force: true });
  return { ms, requests: totalRequests(stats), stats };
}

async function naiveRun(NAIVE_POLL_MS) {
  const dir = await tmp('vidbuild-bench-naive-');
  const emuDir = await tmp('vidbuild-bench-emu-');
  const emu = await startEmulator({ dir: emuDir, port: 0, jobSeconds: T, fps: 4, renderCacheDir });
  const client = new OpenAI({ apiKey: KEY, baseURL: emu.baseURL });
  const limit = pLimit(C);
  const started = Date.now();
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      limit(async () => {
        let v = await client.videos.create({ prompt: prompt(i), model: 'sora-2', size: '720x1280', seconds: '4' });
        while (v.status === 'queued' || v.status === 'in_progress') {
          await new Promise((res) => setTimeout(res, NAIVE_POLL_MS));
          v = await client.videos.retrieve(v.id);
        }
        if (v.status !== 'completed') throw new Error(`job ${v.id} ${v.status}`);
        const res = await client.videos.downloadContent(v.id, { variant: 'video' });
        const hash = createHash('sha256');
        const body = Readable.fromWeb(res.body);
        body.on('data', (c) => hash.update(c));
        await pipeline(body, createWriteStream(path.join(dir, `clip${i}.mp4`)));
      }),
    ),
  );
  const ms = Date.now() - started;
  const stats = emu.stats();
  await emu.stop();
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rm(emuDir, { recursive: true, force: true });
  return { ms, requests: totalRequests(stats) };
}

async function noopRun() {
  const dir = await tmp('vidbuild-bench-noop-');
  const emuDir = await tmp('vidbuild-bench-emu-');
  const emu = await startEmulator({ dir: emuDir, port: 0, jobSeconds: 1, fps: 4, renderCacheDir });
  const lines = ['version: 1', 'outDir: out', 'videos:'];
  for (let i = 0; i < NOOP_TARGETS; i++) lines.push(`  t${i}: { prompt: "Up to date clip ${i}." }`);
  const file = path.join(dir, 'videos.yaml');
  await fsp.writeFile(file, `${lines.join('\n')}\n`);
  // An up-to-date lock, built from the planner's own fingerprints, with small
  // stand-in outputs on disk.
  const loaded = await loadManifest(file, { cwd: dir });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  const manifest = loaded.value.manifest;
  const plan = planBuild(manifest, emptyLockfile(), { fileHashes: new Map(), outputs: new Map(), cache: new Map(), now: new Date() });
  const videos = {};
  await fsp.mkdir(path.join(dir, 'out'), { recursive: true });
  const at = new Date().toISOString();
  for (const step of plan.steps) {
    const t = step.target;
    const rel = t.outputs.video;
    const bytes = Buffer.from(`stand-in for ${t.name}\n`);
    await fsp.writeFile(path.join(dir, rel), bytes);
    videos[t.name] = {
      kind: t.kind,
      fingerprint: step.fingerprint,
      model: t.model,
      size: t.size,
      seconds: t.seconds,
      job: { state: 'job', jobId: `video_bench${step.name}`, status: 'completed', request: buildJobRequest(t, {}), createdAt: at },
      assets: { video: { path: rel, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } },
      updatedAt: at,
    };
  }
  await writeLockfile(path.join(dir, 'videos.lock'), { ...emptyLockfile(), videos });
  const started = Date.now();
  const r = await runCli(['apply', '--yes', '--base-url', emu.baseURL], dir);
  const ms = Date.now() - started;
  const requests = totalRequests(emu.stats());
  await emu.stop();
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rm(emuDir, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`no-op apply failed (${r.code}): ${r.stderr}`);
  return { ms, requests };
}

// BENCH_ONLY=noop: only the no-op apply (seconds instead of minutes).
if (process.env.BENCH_ONLY === 'noop') {
  const only = await noopRun();
  console.log(`no-op apply over ${NOOP_TARGETS} targets: ${only.requests} requests, ${(only.ms / 1000).toFixed(2)} s wall`);
  process.exit(only.requests === 0 ? 0 : 1);
}
await warmRenders();
const ideal = Math.ceil(N / C) * T * 1000;
const vb = await vidbuildRun();
const naives = [];
for (const ms of NAIVE_POLLS_MS) naives.push({ pollMs: ms, ...(await naiveRun(ms)) });
const noop = await noopRun();

const row = (label, value, goal, pass) => console.log(`${label.padEnd(46)} ${String(value).padStart(10)}   ${goal.padEnd(12)} ${pass ? 'ok' : 'MISSED'}`);
console.log(`N=${N} jobs, C=${C}, T=${T} s (ideal makespan ${(ideal / 1000).toFixed(1)} s)`);
console.log(`${'metric'.padEnd(46)} ${'value'.padStart(10)}   ${'goal'.padEnd(12)}`);
row('vidbuild makespan (s)', (vb.ms / 1000).toFixed(1), '', true);
row('vidbuild makespan / ideal', (vb.ms / ideal).toFixed(3), '<= 1.10', vb.ms / ideal <= 1.1);
row('vidbuild requests per job', (vb.requests / N).toFixed(2), '', true);
for (const n of naives) {
  row(`naive loop, polls every ${n.pollMs} ms: makespan (s)`, (n.ms / 1000).toFixed(1), '', true);
  row(`  vidbuild makespan / this loop's`, (vb.ms / n.ms).toFixed(3), '<= 1.00', vb.ms / n.ms <= 1.0);
  row(`  this loop's requests per job`, (n.requests / N).toFixed(2), '', true);
  row(`  vidbuild / this loop's requests per job`, (vb.requests / n.requests).toFixed(3), '<= 0.50', vb.requests / n.requests <= 0.5);
}
row(`no-op apply over ${NOOP_TARGETS} targets: requests`, noop.requests, '== 0', noop.requests === 0);
row(`no-op apply over ${NOOP_TARGETS} targets: wall (s)`, (noop.ms / 1000).toFixed(2), '', true);
console.log(`vidbuild requests by route: ${JSON.stringify(vb.stats.requests)}`);
console.log('(vidbuild is timed as a whole CLI process: node start-up, manifest load and planning included; the loops run in-process)');
