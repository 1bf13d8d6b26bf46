// Shared machinery of the long reliability campaigns (scripts/soak-crash.mjs,
// scripts/soak-faults.mjs): a generated project, an in-process emulator, the
// real CLI as a child process, and the end-state checks (exactly once, every
// file matches the lock and the server, nothing left behind).
//
// Plain ESM JavaScript so the scripts run with `node` straight after
// `npm run build`; it imports the built modules from dist/.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'bin', 'vidbuild.js');
/** Recognisable, so a leak is easy to find in any file or stream. */
export const CANARY_KEY = 'sk-vidbuild-canary-7f3a9c1e5b2d4086a1c3e5f7';

const { startEmulator } = await import(path.join(ROOT, 'dist', 'emulator', 'server.js'));
const { mulberry32 } = await import(path.join(ROOT, 'dist', 'emulator', 'faults.js'));
const { readLockfile } = await import(path.join(ROOT, 'dist', 'lock', 'read-lockfile.js'));
export { startEmulator, readLockfile };

/** `--name value` / `--flag` arguments over defaults (numbers stay numbers). */
export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option ${a} (known: ${Object.keys(defaults).join(', ')})`);
    if (typeof defaults[key] === 'boolean') out[key] = true;
    else {
      const v = argv[++i];
      out[key] = typeof defaults[key] === 'number' ? Number(v) : v;
    }
  }
  return out;
}

/** The emulator's own seeded PRNG (mulberry32): fixed seed, fixed campaign. */
export const prng = mulberry32;

/**
 * A manifest of `n` targets in chains of five: a clip, a remix of it, an
 * extension of the remix, an extension of that extension, and an edit of the
 * clip. Every prompt is unique so jobs can be told apart on the server.
 * `fail(i)` marks target i with a `[[fail:CODE]]` prompt (the emulator fails it).
 */
export function chainManifest(n, { fail = () => undefined, tag = 'c' } = {}) {
  const lines = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: renders', 'videos:'];
  const targets = [];
  for (let i = 0; i < n; i++) {
    const chain = Math.floor(i / 5);
    const pos = i % 5;
    const root = `g${chain}`;
    const name = ['g', 'r', 'e', 'x', 'd'][pos] + chain;
    const code = fail(i);
    const prompt = `${code === undefined ? '' : `[[fail:${code}]] `}${tag} target ${name} number ${i}`;
    const q = JSON.stringify(prompt);
    switch (pos) {
      case 0:
        lines.push(`  ${name}: { prompt: ${q}${i % 10 === 0 ? ', assets: [video, thumbnail]' : ''} }`);
        break;
      case 1:
        lines.push(`  ${name}: { remix: ${root}, prompt: ${q} }`);
        break;
      case 2:
        lines.push(`  ${name}: { extend: r${chain}, prompt: ${q}, seconds: 4 }`);
        break;
      case 3:
        lines.push(`  ${name}: { extend: e${chain}, prompt: ${q}, seconds: 4 }`);
        break;
      case 4:
        lines.push(`  ${name}: { edit: ${root}, prompt: ${q} }`);
        break;
    }
    targets.push({ name, prompt, failCode: code, source: pos === 0 ? undefined : pos === 2 ? `r${chain}` : pos === 3 ? `e${chain}` : root });
  }
  return { text: `${lines.join('\n')}\n`, targets };
}

export async function makeProject(manifestText, prefix = 'vidbuild-soak-') {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await writeFile(path.join(dir, 'videos.yaml'), manifestText);
  return dir;
}

export async function removeDir(dir) {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Runs the real CLI. `killWhen(child)` may return a promise that resolves when
 * the child should get SIGKILL (it is raced against the child's exit).
 */
export function runCli(args, { cwd, env = {}, killWhen, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, OPENAI_API_KEY: CANARY_KEY, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let exited = false;
    let killedByUs = false;
    let hung = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killedByUs, hung });
    });
    if (killWhen !== undefined) {
      Promise.resolve(killWhen(child, () => exited)).then((go) => {
        if (go !== false && !exited) {
          killedByUs = true;
          child.kill('SIGKILL');
        }
      }, reject);
    }
  });
}

/** Total requests of a stats snapshot, optionally only the paid (job-creating) routes. */
export const PAID_ROUTES = ['POST /videos', 'POST /videos/{id}/remix', 'POST /videos/extensions', 'POST /videos/edits', 'POST /videos/characters'];
export function countRequests(stats, routes) {
  return Object.entries(stats.requests)
    .filter(([k]) => routes === undefined || routes.includes(k))
    .reduce((a, [, v]) => a + v, 0);
}

/** Resolves when `pred(stats)` holds or the child exits (polls the in-process emulator; this is a soak driver, not a test). */
export async function waitForStats(emulator, isExited, pred, everyMs = 3) {
  for (;;) {
    if (isExited()) return false;
    if (pred(emulator.stats())) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every job the server knows (not deleted), via the public list endpoint. */
export async function listJobs(baseURL) {
  const jobs = [];
  let after;
  for (;;) {
    const url = new URL(`${baseURL}/videos`);
    url.searchParams.set('limit', '100');
    url.searchParams.set('order', 'asc');
    if (after !== undefined) url.searchParams.set('after', after);
    const res = await checkedFetch(url);
    if (res.status !== 200) throw new Error(`list failed: ${res.status}`);
    const page = JSON.parse(res.body.toString('utf8'));
    jobs.push(...page.data);
    if (!page.has_more) return jobs;
    after = page.last_id;
  }
}

export async function sha256File(file) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk);
  return h.digest('hex');
}

/** Reads the lock with vidbuild's own reader; returns {ok, lock | error}. */
export async function readLock(dir) {
  const r = await readLockfile(dir);
  return r.ok ? { ok: true, lock: r.value } : { ok: false, error: `${r.error.code}: ${r.error.message}` };
}

/**
 * Checks every asset the lock records: the file exists, its size and sha256
 * match the lock, and (when `baseURL` is given) the bytes are what the server
 * serves for that job. Returns a list of problems (empty = all good).
 */
export async function verifyOutputs(dir, lock, baseURL) {
  const problems = [];
  for (const [name, entry] of Object.entries(lock.videos)) {
    for (const [variant, asset] of Object.entries(entry.assets)) {
      const file = path.join(dir, asset.path);
      let st;
      try {
        st = await stat(file);
      } catch {
        problems.push(`${name}/${variant}: ${asset.path} missing`);
        continue;
      }
      if (st.size !== asset.bytes) problems.push(`${name}/${variant}: ${asset.path} has ${st.size} bytes, lock says ${asset.bytes}`);
      const sha = await sha256File(file);
      if (sha !== asset.sha256) problems.push(`${name}/${variant}: sha256 ${sha.slice(0, 12)} ≠ lock ${asset.sha256.slice(0, 12)}`);
      if (baseURL !== undefined && entry.job.state === 'job') {
        const served = await servedSha256(baseURL, entry.job.jobId, variant);
        if (served !== sha) problems.push(`${name}/${variant}: file differs from what the server serves for ${entry.job.jobId}`);
      }
    }
  }
  return problems;
}

/**
 * Requests the campaign itself sent (listing and verification), so the
 * scripts can subtract them from the emulator's counts.
 */
export const ownRequests = { count: 0 };

/** fetch with retries: the checks must see through the faults they are checking around. */
async function checkedFetch(url) {
  let last;
  for (let i = 0; i < 30; i++) {
    ownRequests.count++;
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${CANARY_KEY}` } });
      const body = Buffer.from(await res.arrayBuffer());
      const length = res.headers.get('content-length');
      if (res.status === 429 || res.status >= 500 || (length !== null && Number(length) !== body.length)) {
        last = new Error(`HTTP ${res.status}, ${body.length}/${length} bytes`);
      } else return { status: res.status, body };
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url}: ${last?.message ?? last}`);
}

/** sha256 of what the server serves for a job's asset variant. */
export async function servedSha256(baseURL, jobId, variant = 'video') {
  const res = await checkedFetch(`${baseURL}/videos/${jobId}/content?variant=${variant}`);
  if (res.status !== 200) return `http-${res.status}`;
  return createHash('sha256').update(res.body).digest('hex');
}

/** Checks every output path of the manifest that exists: it must be a complete copy of the locked asset. */
export async function verifyNoCorruptOutputs(dir, lock, outputs, baseURL) {
  const problems = [];
  for (const { name, variant, rel } of outputs) {
    const file = path.join(dir, rel);
    let exists = true;
    await stat(file).catch(() => (exists = false));
    if (!exists) continue;
    const entry = lock.videos[name];
    const asset = entry?.assets?.[variant];
    const sha = await sha256File(file);
    if (asset !== undefined) {
      if (sha !== asset.sha256) problems.push(`${rel}: sha256 does not match the lock (corrupt or stale file at an output path)`);
      continue;
    }
    // Killed between the rename into place and the lock write: the file must
    // still be a complete copy of the locked job's asset.
    if (baseURL !== undefined && entry?.job?.state === 'job' && sha === (await servedSha256(baseURL, entry.job.jobId, variant))) continue;
    problems.push(`${rel} exists but is not a complete copy of any asset the lock records for ${name}`);
  }
  return problems;
}

/** Output paths as the manifest defines them (outDir renders, default names). */
export function expectedOutputs(targets) {
  const out = [];
  for (const t of targets) {
    out.push({ name: t.name, variant: 'video', rel: `renders/${t.name}.mp4` });
  }
  return out;
}

/**
 * Files under the project that are neither the manifest, the lock, an output
 * the lock records, nor content-addressed cache entries: temp files and
 * other leftovers. Also a run lock that outlived its run.
 */
export async function findLeftovers(dir, lock) {
  const expected = new Set(['videos.yaml', 'videos.lock']);
  for (const entry of Object.values(lock.videos)) for (const a of Object.values(entry.assets)) expected.add(a.path);
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile() || d.isSymbolicLink());
  const leftovers = [];
  for (const d of files) {
    const rel = path.relative(dir, path.join(d.parentPath ?? d.path, d.name)).split(path.sep).join('/');
    if (expected.has(rel)) continue;
    if (/^\.vidbuild\/cache\/objects\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(rel)) continue;
    if (/^\.vidbuild\/cache\/index\/[0-9a-f]{64}\.json$/.test(rel)) continue;
    if (/^\.vidbuild\/[a-z-]+\.json$/.test(rel) && !/tmp/.test(rel)) continue; // e.g. the (size, mtime) hash cache
    leftovers.push(rel);
  }
  return leftovers;
}

/** Cache blobs whose content does not hash to their name. */
export async function verifyCacheObjects(dir) {
  const problems = [];
  const root = path.join(dir, '.vidbuild', 'cache', 'objects');
  let shards = [];
  try {
    shards = await readdir(root);
  } catch {
    return problems;
  }
  for (const shard of shards) {
    for (const name of await readdir(path.join(root, shard))) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const sha = await sha256File(path.join(root, shard, name));
      if (sha !== name) problems.push(`cache object ${name.slice(0, 12)} holds bytes hashing to ${sha.slice(0, 12)}`);
    }
  }
  return problems;
}

/** Every file under `dir` that contains `needle` (binary-safe). */
export async function filesContaining(dir, needle) {
  const hits = [];
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
  for (const d of files) {
    const abs = path.join(d.parentPath ?? d.path, d.name);
    const bytes = await readFile(abs);
    if (bytes.includes(needle)) hits.push(path.relative(dir, abs));
  }
  return hits;
}

export function fmtMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
