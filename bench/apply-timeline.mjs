// Where an apply's makespan goes, seen from the server (issue 11): one run of
// N jobs of T s at concurrency 20 against an in-process emulator, each
// request's arrival recorded, then joined with the emulator's own schedule
// of every job (state.json). A diagnostic, not a benchmark: it prints, it
// sets no goals. `npm run build` first.
//
//   node bench/apply-timeline.mjs                 # vidbuild, N=200
//   TL_N=1000 node bench/apply-timeline.mjs
//   TL_WHO=naive node bench/apply-timeline.mjs    # bench/naive-loop.mjs instead
//
// Uses apply.bench.mjs's render cache (run that once first, or the first
// downloads here pay for rendering).
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.TL_N ?? 200);
const C = 20;
const T = Number(process.env.TL_T ?? 2.5);
const who = process.env.TL_WHO === 'naive' ? 'naive' : 'vidbuild';
const prompt = (i) => `Benchmark clip number ${i}: a paper boat on a pond.`;

// Every request the emulator's server sees, by arrival and by when its
// response was finished. The emulator has no hook for this (it need not),
// so the bench listens on the http server's own event, in this process.
const log = [];
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request') {
    const e = { at: performance.timeOrigin + performance.now(), method: req.method, url: req.url };
    log.push(e);
    res.on('finish', () => (e.done = performance.timeOrigin + performance.now()));
  }
  return emit.apply(this, arguments);
};

const { startEmulator } = await import(path.join(root, 'dist/emulator/server.js'));
const emuDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-tl-emu-'));
const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-tl-proj-'));
try {
  const emu = await startEmulator({ dir: emuDir, port: 0, jobSeconds: T, fps: 4, renderCacheDir: path.join(os.tmpdir(), 'vidbuild-bench-apply-renders') });
  const lines = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: out', 'videos:'];
  for (let i = 0; i < N; i++) lines.push(`  clip${i}: { prompt: "${prompt(i)}" }`);
  await fsp.writeFile(path.join(dir, 'videos.yaml'), `${lines.join('\n')}\n`);
  const args =
    who === 'vidbuild'
      ? [path.join(root, 'bin/vidbuild.js'), 'apply', '--yes', '--json', '--base-url', emu.baseURL, '--concurrency', String(C), '--download-concurrency', '8']
      : [path.join(root, 'bench/naive-loop.mjs'), emu.baseURL, String(N), String(C), '500', dir];
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, OPENAI_API_KEY: 'sk-bench-not-a-real-key', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise((resolve) => child.on('close', resolve));
  const total = Date.now() - t0;
  await emu.stop();
  if (code !== 0) throw new Error(`${who} exited with ${code}`);
  report(t0, total, JSON.parse(await fsp.readFile(path.join(emuDir, 'state.json'), 'utf8')));
} finally {
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rm(emuDir, { recursive: true, force: true });
}

function report(t0, total, state) {
  const quantile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
  const dist = (xs) => `p10 ${quantile(xs, 0.1).toFixed(1)}, p50 ${quantile(xs, 0.5).toFixed(1)}, p90 ${quantile(xs, 0.9).toFixed(1)}, max ${quantile(xs, 1).toFixed(1)} ms`;
  const jobs = state.jobs.map((j) => ({ id: j.id, created: j.schedule.createdAtMs, finish: j.schedule.finishAtMs, polls: [] })).sort((a, b) => a.created - b.created);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const creates = log.filter((e) => e.method === 'POST' && /\/videos$/.test(e.url.split('?')[0]));
  for (const e of log) {
    const job = byId.get(/videos\/(video_[0-9a-f]+)/.exec(e.url)?.[1]);
    if (job === undefined) continue;
    if (e.url.includes('/content')) {
      job.content ??= e.at;
      job.contentDone = e.done;
    } else if (e.method === 'GET') job.polls.push(e.at);
  }
  for (const j of jobs) j.seen = j.polls.find((p) => p >= j.finish);
  const lastDone = Math.max(...jobs.map((j) => j.contentDone ?? 0));
  const rel = (ms) => `${((ms - t0) / 1000).toFixed(3)} s`;
  console.log(`${who}, N=${N}, C=${C}, T=${T} s: ${(total / 1000).toFixed(3)} s (bound ${(Math.ceil(N / C) * T).toFixed(1)} s)`);
  console.log(`  first create arrives ${rel(creates[0].at)} after spawn; last create ${rel(creates.at(-1).at)}; last job ends ${rel(Math.max(...jobs.map((j) => j.finish)))}; last download done ${rel(lastDone)}; exit ${(t0 + total - lastDone).toFixed(0)} ms after it`);
  console.log(`  create: answered after ${dist(creates.map((c) => c.done - c.at))}`);
  const seen = jobs.filter((j) => j.seen !== undefined);
  console.log(`  poll that sees a job done lands ${dist(seen.map((j) => j.seen - j.finish))} after its end; ${(jobs.reduce((a, j) => a + j.polls.length, 0) / N).toFixed(2)} polls a job, ${(jobs.reduce((a, j) => a + j.polls.filter((p) => p < j.finish).length, 0) / N).toFixed(2)} of them early`);
  // A slot's next create, after the poll that freed it (k-th seen, k+C-th create).
  const seenAt = seen.map((j) => j.seen).sort((a, b) => a - b);
  const handoff = [];
  for (let k = C; k < creates.length && k - C < seenAt.length; k++) handoff.push(creates[k].at - seenAt[k - C]);
  console.log(`  next create arrives ${dist(handoff)} after the poll that freed its slot`);
  console.log(`  first download asked ${dist(seen.filter((j) => j.content !== undefined).map((j) => j.content - j.seen))} after the job was seen done`);
  const waves = Math.ceil(N / C);
  const lastOfWave0 = creates[Math.min(C, creates.length) - 1].at;
  for (let w = 0; w < waves; w++) {
    if (w > 2 && w < waves - 2 && w % 10 !== 0) continue;
    const wave = creates.slice(w * C, (w + 1) * C);
    const last = wave.at(-1).at;
    console.log(`  wave ${w}: creates ${rel(wave[0].at)} .. ${rel(last)} (spread ${(last - wave[0].at).toFixed(0)} ms), last of them ${(last - lastOfWave0 - w * T * 1000).toFixed(0)} ms behind wave 0 + ${w}·T`);
  }
}
