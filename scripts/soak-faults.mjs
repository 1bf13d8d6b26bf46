#!/usr/bin/env node
// Fault campaign (`npm run soak:faults`): apply a 50-target manifest of chains
// (clips, remixes, extensions, edits) against an emulator that injects 20%
// 429 (with Retry-After), 5% 5xx, 3% dropped connections and 3% truncated
// downloads, with ~5% of the targets failing their generation
// (`[[fail:CODE]]` prompts). The same manifest first runs against a
// fault-free emulator to get the baseline request count.
//
// Asserts: apply converges (re-run until every target that can succeed has
// its outputs, at most --max-runs runs); after every run no output path holds
// a corrupt or partial file and the lockfile parses; every failing target is
// reported with its code (NDJSON `job-failed`) and its dependents are skipped;
// no target that can succeed was created twice on the server; every asset's
// sha256 matches the lock and the server; nothing is left behind; and the
// faulty campaign makes at most 2x the requests of the fault-free one.
//
//   node scripts/soak-faults.mjs [--targets 50] [--seed 7] [--job-seconds 1]
//        [--fps 4] [--max-runs 6] [--json] [--keep]

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
  ownRequests,
  parseArgs,
  readLock,
  removeDir,
  runCli,
  startEmulator,
  verifyCacheObjects,
  verifyNoCorruptOutputs,
  verifyOutputs,
} from '../test/reliability/campaign-kit.mjs';

const opts = parseArgs(process.argv.slice(2), { targets: 50, seed: 7, jobSeconds: 1, fps: 4, maxRuns: 6, json: false, keep: false });
const FAULTS = { seed: opts.seed, 429: 0.2, '5xx': 0.05, reset: 0.03, truncate: 0.03 };
const FAIL_CODES = ['moderation_blocked', 'internal_error', 'content_policy_violation'];

const log = (line) => process.stderr.write(`${line}\n`);
const started = Date.now();
const problems = [];
const fail = (msg) => {
  problems.push(msg);
  log(`  ✗ ${msg}`);
};

/** ~5% of targets fail: two edit leaves and one chain root (whose chain is then skipped). */
function failFor(i) {
  const picks = new Map([
    [4, FAIL_CODES[0]],
    [Math.min(opts.targets - 1, 25), FAIL_CODES[1]],
    [Math.min(opts.targets - 1, 44), FAIL_CODES[2]],
  ]);
  if (opts.targets < 20) return i === opts.targets - 1 ? FAIL_CODES[0] : undefined;
  return picks.get(i);
}

const { text, targets } = chainManifest(opts.targets, { fail: failFor, tag: 'faults' });
const failing = new Set(targets.filter((t) => t.failCode !== undefined).map((t) => t.name));
/** Targets that cannot succeed: failing ones and everything downstream of them. */
const doomed = new Set(failing);
for (let changed = true; changed; ) {
  changed = false;
  for (const t of targets) if (t.source !== undefined && doomed.has(t.source) && !doomed.has(t.name)) (doomed.add(t.name), (changed = true));
}
const good = targets.filter((t) => !doomed.has(t.name));

const dirs = [];
const emulators = [];

async function campaign(label, faults) {
  const emuDir = await mkdtemp(path.join(os.tmpdir(), `vidbuild-soak-faults-${label}-emu-`));
  dirs.push(emuDir);
  const ownBefore = ownRequests.count;
  const emulator = await startEmulator({ dir: emuDir, jobSeconds: opts.jobSeconds, fps: opts.fps, ...(faults === undefined ? {} : { faults }) });
  emulators.push(emulator);
  const dir = await makeProject(text, `vidbuild-soak-faults-${label}-`);
  dirs.push(dir);
  const reported = new Map();
  const skipped = new Set();
  let runs = 0;
  let converged = false;
  while (runs < opts.maxRuns && !converged) {
    const res = await runCli(['apply', '--base-url', emulator.baseURL, '--yes', '--json'], { cwd: dir });
    runs++;
    if (res.hung) fail(`${label}: apply run ${runs} hung`);
    const events = res.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    for (const e of events) {
      if (e.type === 'job-failed') reported.set(e.name, e.code);
      if (e.type === 'job-skipped') skipped.add(e.name);
    }
    const lock = await readLock(dir);
    if (!lock.ok) {
      fail(`${label}: after run ${runs} the lockfile does not parse: ${lock.error}`);
      continue;
    }
    for (const p of await verifyNoCorruptOutputs(dir, lock.lock, expectedOutputs(targets), emulator.baseURL)) fail(`${label} run ${runs}: ${p}`);
    const missing = good.filter((t) => lock.lock.videos[t.name]?.assets?.video === undefined);
    log(`  ${label} run ${runs}: exit ${res.code}, ${good.length - missing.length}/${good.length} good targets done, ${countRequests(emulator.stats()) - (ownRequests.count - ownBefore)} requests so far`);
    converged = missing.length === 0;
    if (!converged && runs === opts.maxRuns) fail(`${label}: not converged after ${runs} runs: ${missing.map((t) => t.name).join(', ')}`);
  }

  const lock = await readLock(dir);
  const stats = emulator.stats();
  const requests = countRequests(stats) - (ownRequests.count - ownBefore);
  const jobs = await listJobs(emulator.baseURL);
  let duplicates = 0;
  for (const t of good) {
    const n = jobs.filter((j) => j.prompt === t.prompt).length;
    if (n !== 1) {
      duplicates += Math.max(0, n - 1);
      fail(`${label}: ${t.name} exists ${n} times on the server`);
    }
  }
  for (const name of failing) {
    const want = targets.find((t) => t.name === name)?.failCode;
    if (reported.get(name) !== want) fail(`${label}: ${name} should be reported failed with ${want}, got ${reported.get(name) ?? 'nothing'}`);
  }
  for (const name of doomed) if (!failing.has(name) && !skipped.has(name)) fail(`${label}: ${name} (downstream of a failure) was not reported skipped`);
  for (const [name, code] of reported) if (!doomed.has(name)) fail(`${label}: ${name} was reported failed (${code}) although it can succeed`);
  if (lock.ok) {
    for (const p of await verifyOutputs(dir, lock.lock, emulator.baseURL)) fail(`${label}: ${p}`);
    for (const p of await verifyCacheObjects(dir)) fail(`${label}: ${p}`);
    for (const f of await findLeftovers(dir, lock.lock)) fail(`${label}: left behind: ${f}`);
  }
  return {
    runs,
    converged,
    requests,
    paidRequests: countRequests(stats, PAID_ROUTES),
    requestsByRoute: stats.requests,
    faults: stats.faults,
    jobs: jobs.length,
    duplicates,
    failedReported: Object.fromEntries(reported),
    skipped: skipped.size,
  };
}

try {
  log(`fault campaign: ${targets.length} targets, failing ${[...failing].join(', ')} (${doomed.size - failing.size} dependents skipped)`);
  const baseline = await campaign('baseline');
  const faulty = await campaign('faulty', FAULTS);
  const ratio = faulty.requests / baseline.requests;
  if (ratio > 2) fail(`faulty run made ${faulty.requests} requests, ${ratio.toFixed(2)}x the fault-free ${baseline.requests} (limit 2x)`);
  const injected = Object.values(faulty.faults).reduce((a, b) => a + b, 0);
  const summary = {
    campaign: 'faults',
    seed: opts.seed,
    faultRates: FAULTS,
    targets: targets.length,
    failing: failing.size,
    dependentsSkipped: doomed.size - failing.size,
    baseline,
    faulty,
    faultsInjected: injected,
    requestRatio: Number(ratio.toFixed(3)),
    elapsedMs: Date.now() - started,
    problems,
  };
  log(
    `fault campaign: ${targets.length} targets (${failing.size} failing, ${doomed.size - failing.size} skipped downstream); ` +
      `baseline ${baseline.requests} requests in ${baseline.runs} run(s); faulty ${faulty.requests} requests in ${faulty.runs} run(s) ` +
      `with ${injected} faults injected (${JSON.stringify(faulty.faults)}); ratio ${ratio.toFixed(2)}x; duplicates ${faulty.duplicates}; ` +
      `problems ${problems.length}; ${fmtMs(summary.elapsedMs)}`,
  );
  if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  for (const e of emulators) await e.stop();
  if (!opts.keep) for (const d of dirs) await removeDir(d);
  else log(`kept: ${dirs.join(' ')}`);
}
