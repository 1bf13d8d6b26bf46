#!/usr/bin/env node
// Crash campaign (`npm run soak:crash`): kill -9 `vidbuild apply` at many
// points of a run against an emulator with latency, re-run until it
// converges, and prove nothing was paid twice or lost.
//
// Kill points, drawn from a fixed seed:
//   paid   — the moment a paid POST (create / remix / extend / edit)
//            reaches the server: usually the server acts and holds the
//            response (--latency-ms), so the client dies before it hears the
//            job id; sometimes the request is cut off before it acts;
//   reqs   — after N more requests of any kind (polls, downloads, lists);
//   delay  — after a random delay from the child's start.
// When a project converges before all kills are spent, a fresh project (new
// prompts) starts a new round on the same emulator.
//
// Asserts after every kill: the lockfile parses (vidbuild's own reader) and
// any file at an output path is a complete copy of its asset. After
// convergence: every target's job exists exactly once on the server, every
// asset's sha256 matches the lock and what the server serves, cache blobs
// hash to their names, no temp file or run lock is left, and a plan shows no
// changes. Prints a summary (and one JSON line with --json); exits 1 on any
// violation.
//
//   node scripts/soak-crash.mjs [--targets 50] [--kills 50] [--seed 1]
//        [--job-seconds 1] [--latency-ms 60] [--fps 4] [--json] [--keep]

import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  PAID_ROUTES,
  chainManifest,
  countRequests,
  expectedOutputs,
  findLeftovers,
  fmtMs,
  listJobs,
  makeProject,
  parseArgs,
  prng,
  readLock,
  removeDir,
  runCli,
  startEmulator,
  verifyCacheObjects,
  verifyNoCorruptOutputs,
  verifyOutputs,
  waitForStats,
} from '../test/reliability/campaign-kit.mjs';
import { stat } from 'node:fs/promises';

const opts = parseArgs(process.argv.slice(2), {
  targets: 50,
  kills: 50,
  seed: 1,
  jobSeconds: 1,
  latencyMs: 60,
  fps: 4,
  json: false,
  keep: false,
});

const log = (line) => process.stderr.write(`${line}\n`);
const started = Date.now();
const rand = prng(opts.seed);
const emuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-soak-crash-emu-'));
const emulator = await startEmulator({ dir: emuDir, jobSeconds: opts.jobSeconds, latencyMs: opts.latencyMs, fps: opts.fps });
const problems = [];
const fail = (msg) => {
  problems.push(msg);
  log(`  ✗ ${msg}`);
};

const rounds = [];
let killsLanded = 0;
let runs = 0;
let reconcileRuns = 0;
const killModes = { paid: 0, reqs: 0, delay: 0 };

try {
  while (killsLanded < opts.kills) {
    const round = rounds.length;
    const { text, targets } = chainManifest(opts.targets, { tag: `round${round}` });
    const dir = await makeProject(text, 'vidbuild-soak-crash-');
    rounds.push({ dir, targets, kills: 0 });
    log(`round ${round}: ${targets.length} targets in ${dir}`);
    let converged = false;
    while (killsLanded < opts.kills && !converged) {
      const r = rand();
      const mode = r < 0.45 ? 'paid' : r < 0.75 ? 'reqs' : 'delay';
      const before = emulator.stats();
      const nPaid = 1 + Math.floor(rand() * 2);
      const nReqs = 1 + Math.floor(rand() * 25);
      const delayMs = 300 + Math.floor(rand() * 2500);
      const res = await runCli(['apply', '--base-url', emulator.baseURL, '--yes', '--json'], {
        cwd: dir,
        killWhen: (_child, exited) => {
          switch (mode) {
            case 'paid':
              return waitForStats(emulator, exited, (s) => countRequests(s, PAID_ROUTES) >= countRequests(before, PAID_ROUTES) + nPaid);
            case 'reqs':
              return waitForStats(emulator, exited, (s) => countRequests(s) >= countRequests(before) + nReqs);
            case 'delay':
              return new Promise((resolve) => setTimeout(() => resolve(!exited()), delayMs));
          }
          return false;
        },
      });
      runs++;
      if (res.stdout.includes('"job-reconciled"')) reconcileRuns++;
      if (res.hung) fail(`round ${round}: apply hung (killed by the watchdog)`);
      if (res.killedByUs) {
        killsLanded++;
        killModes[mode]++;
        rounds[round].kills++;
      } else if (res.code === 0) {
        converged = true;
      } else {
        fail(`round ${round}: apply exited ${res.code} without being killed: ${lastLines(res.stderr)}`);
      }
      const lock = await readLock(dir);
      if (!lock.ok) {
        fail(`round ${round}: after kill ${killsLanded} the lockfile does not parse: ${lock.error}`);
        continue;
      }
      for (const p of await verifyNoCorruptOutputs(dir, lock.lock, expectedOutputs(targets), emulator.baseURL)) fail(`round ${round} kill ${killsLanded} (${mode}): ${p}`);
      if (killsLanded % 10 === 0 && res.killedByUs) log(`  ${killsLanded} kills landed, ${runs} runs, ${fmtMs(Date.now() - started)}`);
    }
  }

  // Converge every round without kills, then check the end state.
  let totalTargets = 0;
  let lost = 0;
  let duplicates = 0;
  for (const [i, round] of rounds.entries()) {
    let code = -1;
    for (let attempt = 0; attempt < 5 && code !== 0; attempt++) {
      const res = await runCli(['apply', '--base-url', emulator.baseURL, '--yes'], { cwd: round.dir });
      runs++;
      code = res.code;
      if (code !== 0) log(`  round ${i}: converging run exited ${code}: ${lastLines(res.stderr)}`);
    }
    if (code !== 0) fail(`round ${i}: did not converge in 5 clean runs`);
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: round.dir });
    if (plan.code !== 0) fail(`round ${i}: plan after convergence exits ${plan.code} (changes left): ${lastLines(plan.stdout)}`);
    const lock = await readLock(round.dir);
    if (!lock.ok) {
      fail(`round ${i}: final lockfile does not parse: ${lock.error}`);
      continue;
    }
    const serverJobs = await listJobs(emulator.baseURL);
    for (const t of round.targets) {
      totalTargets++;
      const made = serverJobs.filter((j) => j.prompt === t.prompt);
      if (made.length !== 1) {
        duplicates += Math.max(0, made.length - 1);
        fail(`round ${i}: ${t.name} was created ${made.length} times on the server (${made.map((j) => j.id).join(', ')})`);
      }
      const entry = lock.lock.videos[t.name];
      if (entry === undefined || entry.assets.video === undefined) {
        lost++;
        fail(`round ${i}: ${t.name} has no video in the lock after convergence`);
      } else if (entry.job.state !== 'job' || made[0] === undefined || entry.job.jobId !== made[0].id) {
        fail(`round ${i}: ${t.name} is locked to ${entry.job.state === 'job' ? entry.job.jobId : 'an intent'}, not the server's job`);
      }
    }
    for (const p of await verifyOutputs(round.dir, lock.lock, emulator.baseURL)) fail(`round ${i}: ${p}`);
    for (const p of await verifyCacheObjects(round.dir)) fail(`round ${i}: ${p}`);
    for (const f of await findLeftovers(round.dir, lock.lock)) fail(`round ${i}: left behind: ${f}`);
    const runLock = await stat(path.join(round.dir, '.vidbuild', 'run.lock')).then(() => true, () => false);
    if (runLock) fail(`round ${i}: .vidbuild/run.lock outlived the last run`);
  }

  const stats = emulator.stats();
  const jobs = await listJobs(emulator.baseURL);
  const summary = {
    campaign: 'crash',
    seed: opts.seed,
    rounds: rounds.length,
    targets: totalTargets,
    killsLanded,
    killModes,
    runs,
    runsThatReconciled: reconcileRuns,
    serverJobs: jobs.length,
    duplicates,
    lost,
    requests: countRequests(stats),
    paidRequests: countRequests(stats, PAID_ROUTES),
    jobsByStatus: stats.jobs,
    elapsedMs: Date.now() - started,
    problems,
  };
  log(
    `crash campaign: ${summary.targets} targets in ${summary.rounds} round(s), ${killsLanded} kills (paid ${killModes.paid}, reqs ${killModes.reqs}, delay ${killModes.delay}), ` +
      `${runs} runs (${reconcileRuns} reconciled an intent), ${summary.requests} requests (${summary.paidRequests} paid POSTs), ` +
      `duplicates ${duplicates}, lost ${lost}, problems ${problems.length}, ${fmtMs(summary.elapsedMs)}`,
  );
  if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  await emulator.stop();
  if (!opts.keep) {
    await removeDir(emuDir);
    for (const r of rounds) await removeDir(r.dir);
  } else log(`kept: emulator state ${emuDir}; projects ${rounds.map((r) => r.dir).join(' ')}`);
}

function lastLines(text, n = 3) {
  return text.trim().split('\n').slice(-n).join(' | ');
}
