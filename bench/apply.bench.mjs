// apply benchmark (issues 4 and 11). Run with `npm run bench apply` (builds first).
//
// 1. N independent jobs of T simulated seconds at concurrency C on the emulator,
//    for each N in BENCH_N (default 200 and 1,000): vidbuild's makespan against
//    the lower bound max(ceil(N/C)·T, N/RPM), and side by side the same work
//    done the way a user would without vidbuild (bench/naive-loop.mjs: a
//    p-limit loop over the SDK, create + poll every 500 ms + download).
//    BENCH_PAIRS pairs (default 3), interleaved (vidbuild first, then the loop
//    first, …), each run against a fresh emulator with the same settings and
//    the same warm render cache; both are timed as whole processes (node
//    start-up included). Requests per job from the emulator's own counters.
// 2. The same with the emulator's --max-running 20 and an RPM limit
//    (BENCH_RPM, default 350; 0 skips it), where the bound is the rate;
//    vidbuild alone (a loop polling every 500 ms would only collect 429s).
// 3. A no-op apply over 1,000 up-to-date targets: must make 0 requests.
//
// The emulator renders real MP4s on first download; that CPU work is an
// artefact of the emulator (the real API serves finished files), so a warm-up
// pass fills a render cache in the temp dir that every run shares. The first
// run on a machine pays for it once (minutes for 1,000 clips on 2 cores).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

const NS = (process.env.BENCH_N ?? '200,1000').split(',').map(Number).filter((n) => n > 0);
const C = Number(process.env.BENCH_C ?? 20);
const T = Number(process.env.BENCH_T ?? 2.5);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
/**
 * The naive loop polls at a fixed interval, like OpenAI's guide (every 10–20 s
 * for jobs of a minute or more); 500 ms is T/5, an interval that divides T
 * exactly (the loop's lucky case: it looks right when the job ends).
 */
const NAIVE_POLL_MS = Number(process.env.BENCH_NAIVE_POLL_MS ?? 500);
const RPM = Number(process.env.BENCH_RPM ?? 350);
const RPM_N = Number(process.env.BENCH_RPM_N ?? 200);
const MAX_RUNNING = 20;
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

async function warmRenders(N) {
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
  return runNode([path.join(root, 'bin/vidbuild.js'), ...args], cwd);
}

function runNode(args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
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

function emulatorFor(emuDir, scenario) {
  return startEmulator({ dir: emuDir, port: 0, jobSeconds: T, fps: 4, renderCacheDir, ...scenario.emulator });
}

/** One timed run (vidbuild or the naive loop) against a fresh emulator. */
async function timedRun(who, N, scenario) {
  const dir = await tmp(`vidbuild-bench-${who}-`);
  const emuDir = await tmp('vidbuild-bench-emu-');
  const emu = await emulatorFor(emuDir, scenario);
  let r;
  const started = Date.now();
  if (who === 'vidbuild') {
    const lines = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: out', 'videos:'];
    for (let i = 0; i < N; i++) lines.push(`  clip${i}: { prompt: "${prompt(i)}" }`);
    await fsp.writeFile(path.join(dir, 'videos.yaml'), `${lines.join('\n')}\n`);
    const t0 = Date.now();
    r = await runCli(['apply', '--yes', '--json', '--base-url', emu.baseURL, '--concurrency', String(scenario.concurrency), '--download-concurrency', '8'], dir);
    r.t0 = t0;
  } else {
    r = await runNode([path.join(root, 'bench/naive-loop.mjs'), emu.baseURL, String(N), String(scenario.concurrency), String(NAIVE_POLL_MS), dir], dir);
  }
  const ms = Date.now() - (r.t0 ?? started);
  if (r.code !== 0) {
    const failures = r.stdout.split('\n').filter((l) => l.includes('"job-failed"')).slice(0, 5);
    throw new Error(`${who} failed (${r.code}): ${r.stderr}\n${failures.join('\n')}\n${r.stdout.slice(-1000)}`);
  }
  const stats = emu.stats();
  await emu.stop();
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rm(emuDir, { recursive: true, force: true });
  return { ms, requests: totalRequests(stats), stats, phases: who === 'vidbuild' ? phasesOf(r.stdout, r.t0) : undefined };
}

/** From vidbuild's NDJSON: when the plan was ready and the first job was sent, ms after the process started. */
function phasesOf(stdout, t0) {
  const at = { planReady: NaN, firstSubmitted: NaN };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line);
    if (e.type === 'plan-ready' && Number.isNaN(at.planReady)) at.planReady = Date.parse(e.at) - t0;
    if (e.type === 'job-submitted' && Number.isNaN(at.firstSubmitted)) at.firstSubmitted = Date.parse(e.at) - t0;
  }
  return at;
}

/** PAIRS interleaved pairs: vidbuild then the loop, then the loop then vidbuild, … */
async function pairs(N, scenario) {
  const out = [];
  for (let p = 0; p < PAIRS; p++) {
    const order = !scenario.naive ? ['vidbuild'] : p % 2 === 0 ? ['vidbuild', 'naive'] : ['naive', 'vidbuild'];
    const pair = {};
    for (const who of order) pair[who] = await timedRun(who, N, scenario);
    const naive = pair.naive === undefined ? '' : `, naive ${(pair.naive.ms / 1000).toFixed(2)} s (${(pair.naive.requests / N).toFixed(2)} req/job)`;
    console.log(
      `  ${scenario.naive ? 'pair' : 'run'} ${p + 1}: vidbuild ${(pair.vidbuild.ms / 1000).toFixed(2)} s (${(pair.vidbuild.requests / N).toFixed(2)} req/job, plan ready ${pair.vidbuild.phases.planReady} ms, first job sent ${pair.vidbuild.phases.firstSubmitted} ms)${naive}`,
    );
    out.push(pair);
  }
  return out;
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
const stat = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
};
const fmt = (x, d) => `${x.min.toFixed(d)} / ${x.median.toFixed(d)} / ${x.max.toFixed(d)}`;
const row = (label, value, goal, pass) => console.log(`${label.padEnd(44)} ${value.padStart(24)}   ${goal.padEnd(8)} ${goal === '' ? '' : pass ? 'ok' : 'MISSED'}`);

function report(N, scenario, results) {
  const slots = Math.ceil(N / scenario.concurrency) * T * 1000;
  // The emulator's RPM is a sliding 60 s window over every request, and no
  // client does a job in fewer than three (create, one poll, one download):
  // the last of 3N requests goes out no sooner than (ceil(3N/RPM) - 1)
  // windows after the first. N/RPM (the creates alone, as a steady rate) is
  // shown beside it.
  const creates = scenario.rpm === undefined ? 0 : (N / scenario.rpm) * 60_000;
  const rate = scenario.rpm === undefined ? 0 : (Math.ceil((3 * N) / scenario.rpm) - 1) * 60_000;
  const bound = Math.max(slots, rate);
  const vb = stat(results.map((r) => r.vidbuild.ms / 1000));
  const vsBound = stat(results.map((r) => r.vidbuild.ms / bound));
  const reqVb = stat(results.map((r) => r.vidbuild.requests / N));
  const rateNote = scenario.rpm === undefined ? '' : `, N/RPM = ${(creates / 1000).toFixed(1)} s, (ceil(3N/RPM) - 1) min = ${(rate / 1000).toFixed(1)} s`;
  console.log(`\n${scenario.label}: N=${N}, C=${scenario.concurrency}, T=${T} s, bound ${(bound / 1000).toFixed(1)} s (ceil(N/C)·T = ${(slots / 1000).toFixed(1)} s${rateNote}), ${results.length} ${scenario.naive ? 'interleaved pairs' : 'runs'}`);
  console.log(`${'metric'.padEnd(44)} ${'min / median / max'.padStart(24)}   goal`);
  row('vidbuild makespan (s)', fmt(vb, 2), '', true);
  row('vidbuild / bound', fmt(vsBound, 3), scenario.goals ? '<= 1.03' : '', vsBound.max <= 1.03);
  row('vidbuild requests per job', fmt(reqVb, 2), '', true);
  if (scenario.naive) {
    const nv = stat(results.map((r) => r.naive.ms / 1000));
    const vsNaive = stat(results.map((r) => r.vidbuild.ms / r.naive.ms));
    const reqNv = stat(results.map((r) => r.naive.requests / N));
    const reqRatio = stat(results.map((r) => r.vidbuild.requests / r.naive.requests));
    row(`naive loop, polls every ${NAIVE_POLL_MS} ms: makespan (s)`, fmt(nv, 2), '', true);
    row('vidbuild / naive loop (same pair)', fmt(vsNaive, 3), '<= 0.97', vsNaive.max <= 0.97);
    row('naive loop requests per job', fmt(reqNv, 2), '', true);
    row('vidbuild / naive loop requests', fmt(reqRatio, 3), '<= 0.50', reqRatio.max <= 0.5);
  }
  console.log(`vidbuild requests by route (last run): ${JSON.stringify(results[results.length - 1].vidbuild.stats.requests)}`);
}

const plain = { label: 'slots', concurrency: C, emulator: {}, goals: true, naive: true };
for (const N of NS) {
  await warmRenders(N);
  console.log(`\nN=${N}:`);
  report(N, plain, await pairs(N, plain));
}
if (RPM > 0) {
  const limited = { label: `emulator --max-running ${MAX_RUNNING} --rpm ${RPM}`, concurrency: C, rpm: RPM, emulator: { maxRunning: MAX_RUNNING, rpm: RPM }, goals: false, naive: false };
  await warmRenders(RPM_N);
  console.log(`\nN=${RPM_N}, emulator --max-running ${MAX_RUNNING} --rpm ${RPM}:`);
  report(RPM_N, limited, await pairs(RPM_N, limited));
}
const noop = await noopRun();
console.log('');
row(`no-op apply over ${NOOP_TARGETS} targets: requests`, String(noop.requests), '== 0', noop.requests === 0);
row(`no-op apply over ${NOOP_TARGETS} targets: wall (s)`, (noop.ms / 1000).toFixed(2), '', true);
console.log('(both are timed as whole processes: node start-up, and for vidbuild manifest load and planning, included)');
