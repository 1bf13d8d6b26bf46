// Times `vidbuild plan` as a whole process on generated projects of 1,000 and
// 10,000 targets (mixed kinds, chains of derived targets) whose lockfile
// matches: every output on disk, plus a few edits so the plan has work to show.
// Goals (issue 2): 10k under 1.5 s wall, 10k/1k ratio under 12.
//
// Run: npm run bench (builds first) or node bench/plan.bench.mjs after npm run build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMp4 } from './mp4.mjs';
import { benchPng } from './png.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'vidbuild.js');
const { loadManifest } = await import(path.join(root, 'dist/manifest/load-manifest.js'));
const { fingerprintTarget } = await import(path.join(root, 'dist/plan/fingerprint.js'));
const { buildJobRequest } = await import(path.join(root, 'dist/plan/job-request.js'));
const { writeLockfile } = await import(path.join(root, 'dist/lock/write-lockfile.js'));
const { referencedFilesOf, sourceTargetOf } = await import(path.join(root, 'dist/manifest/manifest.js'));

const RUNS = 5;
const sha = (b) => createHash('sha256').update(b).digest('hex');

/** Ten-target blocks: generate, remix, extend, edit-of-extension, remix-of-remix, file edit, pro, thumbnails… */
function manifestText(n) {
  const lines = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: renders', 'videos:'];
  for (let b = 0; b < n / 10; b++) {
    const p = `t${b}_`;
    lines.push(
      `  ${p}gen: { prompt: "Lighthouse ${b} at dawn, slow dolly in.", seconds: 8, input_reference: refs/ref${b % 7}.png }`,
      `  ${p}remix: { remix: ${p}gen, prompt: "Same shot ${b} at night." }`,
      `  ${p}ext: { extend: ${p}gen, prompt: "The camera rises ${b}.", seconds: 4 }`,
      `  ${p}ext_edit: { edit: ${p}ext, prompt: "Warmer grade ${b}." }`,
      `  ${p}remix2: { remix: ${p}remix, prompt: "Add fog ${b}." }`,
      `  ${p}ext2: { extend: ${p}ext, prompt: "Birds fly past ${b}.", seconds: 8 }`,
      `  ${p}file_edit: { edit: { file: refs/clip${b % 3}.mp4 }, prompt: "Remove the watermark ${b}." }`,
      `  ${p}pro: { prompt: "A wide aerial ${b}.", model: sora-2-pro, size: 1792x1024, seconds: 4 }`,
      `  ${p}thumbs: { prompt: "Close-up ${b}.", assets: [video, thumbnail] }`,
      `  ${p}plain: { prompt: "Waves ${b}." }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function makeProject(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vidbuild-bench-plan-${n}-`));
  mkdirSync(path.join(dir, 'refs'));
  for (let i = 0; i < 7; i++) writeFileSync(path.join(dir, `refs/ref${i}.png`), benchPng(720, 1280, `ref ${i}`));
  for (let i = 0; i < 3; i++) writeFileSync(path.join(dir, `refs/clip${i}.mp4`), benchMp4(720, 1280, 4, `clip ${i}`));
  writeFileSync(path.join(dir, 'videos.yaml'), manifestText(n));
  const loaded = await loadManifest(path.join(dir, 'videos.yaml'));
  if (!loaded.ok) throw new Error(loaded.error.map((d) => d.message).join('\n'));
  const { manifest } = loaded.value;

  // What a completed apply leaves: a lock entry per target and its outputs on disk.
  const fileSha = new Map();
  const jobIds = new Map();
  const videos = {};
  mkdirSync(path.join(dir, 'renders'));
  const past = new Date(Date.now() - 3600_000);
  for (const t of manifest.targets.values()) {
    const files = referencedFilesOf(t).map((p) => {
      if (!fileSha.has(p)) fileSha.set(p, sha(readFileSync(path.join(dir, p))));
      return fileSha.get(p);
    });
    const src = sourceTargetOf(t);
    const sourceJobId = src === undefined ? undefined : jobIds.get(src);
    const fingerprint = fingerprintTarget(t, { files, source: sourceJobId === undefined ? undefined : { jobId: sourceJobId }, characters: [] });
    const jobId = `video_${t.name}`;
    jobIds.set(t.name, jobId);
    const assets = {};
    for (const v of t.assets) {
      const out = t.outputs[v];
      const content = `${t.name} ${v}`;
      writeFileSync(path.join(dir, out), content);
      utimesSync(path.join(dir, out), past, past);
      assets[v] = { path: out, bytes: content.length, sha256: sha(content) };
    }
    videos[t.name] = {
      kind: t.kind,
      fingerprint,
      model: t.model,
      size: t.size,
      seconds: t.seconds,
      ...(src === undefined ? {} : { source: src }),
      job: {
        state: 'job',
        jobId,
        status: 'completed',
        request: buildJobRequest(t, { sourceJobId, uploadSha256: files[0] }),
        createdAt: '2025-10-07T10:00:00.000Z',
        completedAt: '2025-10-07T10:02:00.000Z',
        expiresAt: '2099-01-01T00:00:00.000Z',
      },
      assets,
      updatedAt: '2025-10-07T10:02:00.000Z',
    };
  }
  await writeLockfile(path.join(dir, 'videos.lock'), { lockfileVersion: 1, characters: {}, videos });

  // A few edits: 1% of the blocks get a new prompt at their root (cascading), one output is missing.
  let text = manifestText(n);
  for (let b = 0; b < n / 10; b += 100) text = text.replace(`Lighthouse ${b} at dawn`, `Lighthouse ${b} at dusk`);
  writeFileSync(path.join(dir, 'videos.yaml'), text);
  rmSync(path.join(dir, 'renders/t1_plain.mp4'));
  return dir;
}

function timePlan(dir) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, 'plan', '--detailed-exitcode'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 2) throw new Error(`plan exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  return { ms, summary: r.stdout.trim().split('\n').at(-1) };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const results = {};
const dirs = {};
try {
  for (const n of [1000, 10000]) dirs[n] = await makeProject(n);
  for (const n of [1000, 10000]) {
    const cold = timePlan(dirs[n]); // fills .vidbuild/hash-cache.json
    const times = [];
    let summary = cold.summary;
    for (let i = 0; i < RUNS; i++) {
      const r = timePlan(dirs[n]);
      times.push(r.ms);
      summary = r.summary;
    }
    results[n] = { cold: cold.ms, median: median(times), times };
    process.stdout.write(`${String(n).padStart(6)} targets: median ${median(times).toFixed(0)} ms of ${RUNS} (cold, hashing every output: ${cold.ms.toFixed(0)} ms)\n        ${summary}\n`);
  }
  const ratio = results[10000].median / results[1000].median;
  const ok10k = results[10000].median < 1500;
  const okRatio = ratio < 12;
  process.stdout.write(`load average (1/5/15 min): ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores\n`);
  process.stdout.write(`10k/1k ratio: ${ratio.toFixed(2)} (goal < 12: ${okRatio ? 'ok' : 'MISSED'}); 10k: ${results[10000].median.toFixed(0)} ms (goal < 1500 ms: ${ok10k ? 'ok' : 'MISSED'})\n`);
  process.exitCode = ok10k && okRatio ? 0 : 1;
} finally {
  // BENCH_KEEP=1 keeps the generated projects for profiling (`node --cpu-prof bin/vidbuild.js plan`).
  if (process.env.BENCH_KEEP === '1') process.stdout.write(`kept: ${Object.values(dirs).join(' ')}\n`);
  else for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
}
