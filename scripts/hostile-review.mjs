#!/usr/bin/env node
// Hostile review (`npm run soak:hostile`): the attacks of issue 13 and more of
// the same kinds, tried as a new user and an attacker would, with the figures
// RELIABILITY.md reports. Each case builds a project next to an `outside/`
// folder (a `.env` holding the API key, an image, a clip), runs the real CLI
// against the emulator or a loopback fake provider that misbehaves, and every
// run is checked for the same invariants whatever the case:
//
//   - no stack trace and no internal error (exit 70), no hang;
//   - the API key in no output and in no file the run could write;
//   - `outside/` byte-for-byte unchanged, nothing created next to the project;
//   - a file the user owns (declared by the case) unchanged;
//   - no raw escape code or carriage return in the output (NO_COLOR is set);
//   - no output line over 8 KiB;
//   - no more paid requests than the case allows (emulator or fake counts).
//
// Prints one line per case and a summary (one JSON line with --json); exits 1
// on any violation.
//
//   node scripts/hostile-review.mjs [--only NAME] [--json] [--keep]

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchPng } from '../bench/png.mjs';
import { benchMp4 } from '../bench/mp4.mjs';
import { CANARY_KEY, PAID_ROUTES, countRequests, parseArgs, runCli, startEmulator, waitForStats } from '../test/reliability/campaign-kit.mjs';

const opts = parseArgs(process.argv.slice(2), { only: '', json: false, keep: false });
const log = (line) => process.stderr.write(`${line}\n`);
const started = Date.now();
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const emuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-hostile-emu-'));
const emulator = await startEmulator({ dir: emuDir, jobSeconds: 0.2, fps: 4 });
const slowEmuDir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-hostile-emu-slow-'));
const slowEmulator = await startEmulator({ dir: slowEmuDir, jobSeconds: 0.5, latencyMs: 400, fps: 4 });
const fake = await startFakeProvider();

const PNG = benchPng(720, 1280, 'ref');
const SECRET_PNG = benchPng(720, 1280, 'outside-secret');
const CLIP = benchMp4(720, 1280, 4, 'outside-clip');
const sha = (b) => createHash('sha256').update(b).digest('hex');

const totals = { cases: 0, runs: 0, cleanErrors: 0, succeeded: 0, stackTraces: 0, internalErrors: 0, hangs: 0, outsideTouched: 0, secretsFound: 0, userFilesOverwritten: 0, rawControlChars: 0, longLines: 0, excessPaid: 0, skipped: 0 };
const problems = [];
const results = [];

// ---------------------------------------------------------------- the cases
const cases = [];
const kase = (name, fn, { rootOnly = false } = {}) => cases.push({ name, fn, rootOnly });

const M = (body, { base = '' } = {}) => `version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\noutDir: renders\n${base}videos:\n${body}`;
const ONE = M('  a: { prompt: "a lighthouse at dawn" }\n');

// 1. Secrets and files outside the project
kase('manifest symlink to outside/.env', async (c) => {
  await symlink('../outside/.env', c.p('videos.yaml'));
  for (const cmd of ['validate', 'plan', 'status']) await c.run([cmd]);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('manifest symlink to /etc/passwd', async (c) => {
  await symlink('/etc/passwd', c.p('videos.yaml'));
  await c.run(['validate']);
  await c.run(['plan', '--json']);
});
kase('manifest symlink to a valid manifest outside', async (c) => {
  await writeFile(c.o('real.yaml'), ONE);
  await symlink('../outside/real.yaml', c.p('videos.yaml'));
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('input_reference ../outside/secret.png', async (c) => {
  await c.manifest(M('  a: { prompt: "p", input_reference: ../outside/secret.png }\n'));
  await c.run(['validate']);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('input_reference symlink out of the project', async (c) => {
  await mkdir(c.p('refs'));
  await symlink('../../outside/secret.png', c.p('refs/a.png'));
  await c.manifest(M('  a: { prompt: "p", input_reference: refs/a.png }\n'));
  await c.run(['validate']);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('edit file symlink out of the project', async (c) => {
  await mkdir(c.p('refs'));
  await symlink('../../outside/clip.mp4', c.p('refs/clip.mp4'));
  await c.manifest(M('  a: { edit: { file: refs/clip.mp4 }, prompt: "warmer" }\n'));
  await c.run(['validate']);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('extend file symlink out of the project', async (c) => {
  await mkdir(c.p('refs'));
  await symlink('../../outside/clip.mp4', c.p('refs/clip.mp4'));
  await c.manifest(M('  a: { extend: { file: refs/clip.mp4 }, prompt: "longer", seconds: 4 }\n'));
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('character video symlink out of the project', async (c) => {
  await mkdir(c.p('refs'));
  await symlink('../../outside/clip.mp4', c.p('refs/hero.mp4'));
  await c.manifest(M('  a: { prompt: "Hero waves", characters: [Hero] }\n', { base: 'characters:\n  Hero: { video: refs/hero.mp4 }\n' }));
  await c.run(['validate']);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('reference swapped for an outside file between plan and upload', async (c) => {
  await mkdir(c.p('refs'));
  await writeFile(c.p('refs/a.png'), PNG);
  await writeFile(c.p('refs/b.png'), benchPng(720, 1280, 'b'));
  await c.manifest(`concurrency: 1\n${M('  a: { prompt: "first", input_reference: refs/a.png }\n  b: { prompt: "second", input_reference: refs/b.png }\n')}`);
  const before = countRequests(slowEmulator.stats(), ['POST /videos']);
  await c.run(['apply', '--yes', '--base-url', slowEmulator.baseURL], {
    paid: 2,
    killWhen: async (child, exited) => {
      await waitForStats(slowEmulator, exited, (s) => countRequests(s, ['POST /videos']) > before);
      await rm(c.p('refs/b.png'));
      await symlink('../../outside/secret.png', c.p('refs/b.png'));
      return false; // do not kill: let the run reach b's upload
    },
  });
  const uploads = await readdir(path.join(slowEmuDir, 'uploads')).catch(() => []);
  if (uploads.includes(sha(SECRET_PNG))) c.fail('outside', 'the outside image was uploaded to the provider');
  const plan = await c.run(['plan', '--base-url', slowEmulator.baseURL]);
  if (/No changes/.test(plan.stdout)) c.fail('outside', 'the next plan says "No changes" after the swap');
});
kase('.vidbuild symlink out of the project', async (c) => {
  await mkdir(c.o('vb'));
  await symlink('../outside/vb', c.p('.vidbuild'));
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('.vidbuild/cache symlink out of the project', async (c) => {
  await mkdir(c.o('cache'));
  await mkdir(c.p('.vidbuild'));
  await symlink('../../outside/cache', c.p('.vidbuild/cache'));
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('.vidbuild/emulator symlink out of the project', async (c) => {
  await mkdir(c.o('emu'));
  await mkdir(c.p('.vidbuild'));
  await symlink('../../outside/emu', c.p('.vidbuild/emulator'));
  await c.manifest(ONE);
  await c.run(['apply', '--yes', '--backend', 'emulator']);
});
kase('outDir symlink out of the project', async (c) => {
  await mkdir(c.o('r'));
  await symlink('../outside/r', c.p('renders'));
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('outDir symlink into .git', async (c) => {
  await mkdir(c.p('.git/objects'), { recursive: true });
  await symlink('.git/objects', c.p('renders'));
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()]);
  if ((await readdir(c.p('.git/objects'))).length > 0) c.fail('outside', 'a file was written into .git');
});
kase('outDir a missing folder under a symlink out', async (c) => {
  await mkdir(c.o('r'));
  await symlink('../outside/r', c.p('renders'));
  await c.manifest(ONE.replace('outDir: renders', 'outDir: renders/deep/er'));
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('outDir: videos.lock', async (c) => {
  await c.manifest(ONE.replace('outDir: renders', 'outDir: videos.lock'));
  await c.run(['validate']);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('outDir: ../outside', async (c) => {
  await c.manifest(ONE.replace('outDir: renders', 'outDir: ../outside'));
  await c.run(['validate']);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('provider echoes the Authorization header everywhere', async (c) => {
  await c.manifest(M('  a: { prompt: "p" }\n  b: { prompt: "q" }\n'));
  await c.run(['apply', '--yes', '--base-url', fake.url('echo')], { paid: 2, fake: 'echo' });
  await c.run(['apply', '--yes', '--json', '--base-url', fake.url('echo')], { paid: 0, fake: 'echo' });
  await c.run(['status', '--base-url', fake.url('echo')], { fake: 'echo' });
  await c.run(['status', '--json', '--base-url', fake.url('echo')], { fake: 'echo' });
  await c.run(['plan', '--json', '--base-url', fake.url('echo')], { fake: 'echo' });
  await c.run(['import', 'a', 'video_echo_1', '--base-url', fake.url('echo')], { fake: 'echo' });
  await c.run(['prune', '--yes', '--base-url', fake.url('echo')], { fake: 'echo' });
});

// 2. Files and jobs that are not ours
kase('outDir moved onto a folder holding the user\'s a.mp4', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()], { paid: 1 });
  await mkdir(c.p('mine'));
  await c.userFile('mine/a.mp4', 'my own holiday video');
  await c.manifest(ONE.replace('outDir: renders', 'outDir: mine'));
  await c.run(['apply', '--yes', ...c.emu()]);
  await c.run(['pull', ...c.emu()]);
});
kase('target renamed onto a user file', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()], { paid: 1 });
  await c.userFile('renders/b.mp4', 'not vidbuild\'s');
  await c.manifest(ONE.replace('  a:', '  b:'));
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('new target where a user file sits', async (c) => {
  await mkdir(c.p('renders'));
  await c.userFile('renders/a.mp4', 'user bytes');
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('edit.file is another target\'s output through an in-project symlink', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()], { paid: 1 });
  await symlink('renders/a.mp4', c.p('alias.mp4'));
  await c.manifest(M('  a: { prompt: "a lighthouse at dawn" }\n  b: { edit: { file: alias.mp4 }, prompt: "warmer" }\n'));
  await c.run(['validate']);
});

// 3. Money
kase('--max-cost 0 with unpriced sizes', async (c) => {
  const targets = [1, 2, 3, 4, 5].map((i) => `  t${i}: { prompt: "unpriced ${i}", size: 1920x1080 }\n`).join('');
  await c.manifest(`provider:\n  capabilities: { models: { sora-2: { sizes: [1920x1080] } } }\n${M(targets)}`);
  await c.run(['plan']);
  await c.run(['apply', '--yes', '--max-cost', '0', ...c.emu()]);
});
kase('a failed target is not billed again on every apply --yes', async (c) => {
  await c.manifest(M('  a: { prompt: "[[fail:moderation_blocked]] nope" }\n'));
  await c.run(['apply', '--yes', ...c.emu()], { paid: 1 });
  await c.run(['apply', '--yes', ...c.emu()]);
  await c.run(['apply', '--yes', ...c.emu()]);
  await c.run(['plan']);
});
kase('pull of bytes whose sha256 differs from the lock', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()], { paid: 1 });
  const lockText = await readFile(c.p('videos.lock'), 'utf8');
  const lock = JSON.parse(lockText);
  const entry = Object.values(lock.targets ?? lock.videos ?? {})[0];
  const assets = entry?.assets ?? {};
  for (const a of Object.values(assets)) if (a && typeof a === 'object' && 'sha256' in a) a.sha256 = '0'.repeat(64);
  const tampered = `${JSON.stringify(lock, null, 2)}\n`;
  await writeFile(c.p('videos.lock'), tampered);
  await rm(c.p('.vidbuild'), { recursive: true, force: true });
  await rm(c.p('renders'), { recursive: true, force: true });
  const r = await c.run(['pull', ...c.emu()]);
  if (r.code === 0) c.fail('user', 'pull exited 0 on a sha256 mismatch');
  if ((await readFile(c.p('videos.lock'), 'utf8')) !== tampered) c.fail('user', 'pull rewrote the committed lock on a mismatch');
});
kase('kill -9 during apply --replace, then re-run and prune', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', '--base-url', slowEmulator.baseURL], { paid: 1 });
  const firstJob = JSON.parse(await readFile(c.p('videos.lock'), 'utf8'));
  const before = countRequests(slowEmulator.stats(), ['POST /videos']);
  await c.run(['apply', '--yes', '--replace', 'a', '--base-url', slowEmulator.baseURL], {
    paid: 1,
    killWhen: (child, exited) => waitForStats(slowEmulator, exited, (s) => countRequests(s, ['POST /videos']) > before),
  });
  await c.run(['apply', '--yes', '--base-url', slowEmulator.baseURL]);
  await c.run(['prune', '--yes', '--base-url', slowEmulator.baseURL]);
  const lock = JSON.parse(await readFile(c.p('videos.lock'), 'utf8'));
  if (JSON.stringify(lock) === JSON.stringify(firstJob)) c.fail('user', 'the replace was lost: the lock still holds the old job');
});
kase('kill -9 then rename the target', async (c) => {
  await c.manifest(ONE);
  const before = countRequests(slowEmulator.stats(), ['POST /videos']);
  await c.run(['apply', '--yes', '--base-url', slowEmulator.baseURL], {
    paid: 1,
    killWhen: (child, exited) => waitForStats(slowEmulator, exited, (s) => countRequests(s, ['POST /videos']) > before),
  });
  await c.manifest(ONE.replace('  a:', '  renamed:'));
  await c.run(['apply', '--yes', '--base-url', slowEmulator.baseURL]);
  await c.run(['prune', '--yes', '--base-url', slowEmulator.baseURL]);
});

// 4. Errors, not crashes
kase('.vidbuild is a file', async (c) => {
  await c.manifest(ONE);
  await c.userFile('.vidbuild', 'a file in the way');
  await c.run(['apply', '--yes', ...c.emu()]);
});
kase('videos.lock is a folder', async (c) => {
  await c.manifest(ONE);
  await mkdir(c.p('videos.lock'));
  for (const cmd of [['plan'], ['apply', '--yes', ...c.emu()], ['pull', ...c.emu()], ['prune', '--yes', ...c.emu()]]) await c.run(cmd);
});
kase('read-only project', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()], { paid: 1 });
  await rm(c.p('renders'), { recursive: true, force: true });
  await rm(c.p('.vidbuild'), { recursive: true, force: true });
  execFileSync('mount', ['--bind', c.proj, c.proj]);
  execFileSync('mount', ['-o', 'remount,bind,ro', c.proj]);
  try {
    for (const cmd of [['apply', '--yes', ...c.emu()], ['pull', ...c.emu()], ['prune', '--yes', ...c.emu()], ['import', 'a', 'video_x', ...c.emu()]]) await c.run(cmd);
  } finally {
    execFileSync('umount', [c.proj]);
  }
}, { rootOnly: true });
kase('full disk', async (c) => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', c.proj]);
  try {
    await c.manifest(ONE);
    await c.run(['apply', '--yes', ...c.emu()], { paid: 1 });
    await c.run(['pull', ...c.emu()]);
  } finally {
    execFileSync('umount', ['-l', c.proj]);
  }
}, { rootOnly: true });
kase('provider forges lines with newlines and escape codes', async (c) => {
  await c.manifest(ONE);
  const r = await c.run(['apply', '--yes', '--base-url', fake.url('forge')], { paid: 1, fake: 'forge' });
  await c.run(['status', '--base-url', fake.url('forge')], { fake: 'forge' });
  if (/^videos\.yaml: ok$/m.test(r.stdout + r.stderr)) c.fail('control', 'a forged "videos.yaml: ok" line was printed');
});
kase('manifest keys and prompts with escape codes', async (c) => {
  await c.manifest(M('  "a\\e[2J\\nvideos.yaml: ok": { prompt: "p" }\n  b: { prompt: "x", remix: "zz\\e[31m" }\n'));
  const r = await c.run(['validate']);
  await c.run(['plan']);
  if (/^videos\.yaml: ok$/m.test(r.stdout + r.stderr)) c.fail('control', 'a forged "videos.yaml: ok" line was printed');
});
kase('API key with a control character', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()], { env: { OPENAI_API_KEY: `${CANARY_KEY}\x01` }, timeoutMs: 20_000 });
});
kase('API key with a non-ASCII character', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', ...c.emu()], { env: { OPENAI_API_KEY: `${CANARY_KEY}é` }, timeoutMs: 20_000 });
});
kase('create response without an id', async (c) => {
  await c.manifest(ONE);
  const r = await c.run(['apply', '--yes', '--base-url', fake.url('noid')], { paid: 1, fake: 'noid', timeoutMs: 120_000 });
  if (/TypeError|Cannot read properties/.test(r.stdout + r.stderr)) c.fail('stack', 'a TypeError reached the user');
});
kase('a 17-byte non-MP4 body as the video', async (c) => {
  await c.manifest(ONE);
  await c.run(['apply', '--yes', '--base-url', fake.url('junk')], { paid: 1, fake: 'junk' });
  const out = await readFile(c.p('renders/a.mp4')).catch(() => undefined);
  if (out !== undefined && out.subarray(4, 8).toString() !== 'ftyp') c.fail('user', 'a non-MP4 body became renders/a.mp4');
});
kase('unknown YAML tag', async (c) => {
  await c.manifest(M('  a: { prompt: !shell "rm -rf /" }\n'));
  const r = await c.run(['validate']);
  if (r.code === 0) c.fail('user', 'an unknown YAML tag was accepted');
});
kase('20,000-target cycle', async (c) => {
  const lines = [];
  for (let i = 0; i < 20_000; i++) lines.push(`  t${i}: { remix: t${(i + 1) % 20_000}, prompt: "p${i}" }`);
  await c.manifest(M(`${lines.join('\n')}\n`));
  await c.run(['validate'], { timeoutMs: 120_000 });
});

// ---------------------------------------------------------------- the rig
async function startFakeProvider() {
  // Modes, chosen by the first path segment of the base URL:
  //   echo  — every field of every answer carries the Authorization header; jobs fail
  //   forge — ids, statuses and messages carry newlines and escape codes; jobs fail
  //   noid  — a create answers 200 without an id
  //   junk  — jobs complete; the video is 17 bytes of text
  const paid = { echo: 0, forge: 0, noid: 0, junk: 0 };
  const server = createServer((req, res) => {
    const [, mode, , ...rest] = (req.url ?? '').split('?')[0].split('/');
    const auth = req.headers.authorization ?? '';
    const route = `${req.method} /${rest.join('/')}`;
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      const evil = mode === 'echo' ? `leak ${auth}` : '\n videos.yaml: ok\x1b[2J\x1b]0;pwned\x07\r';
      const job = (id, status) => ({
        id, object: 'video', status, progress: status === 'completed' ? 100 : 0, model: 'sora-2', seconds: '4', size: '720x1280',
        created_at: Math.floor(Date.now() / 1000), completed_at: null, expires_at: null, prompt: evil, remixed_from_video_id: null,
        error: status === 'failed' ? { code: mode === 'echo' ? `code ${auth}` : `bad${evil}`, message: `failed: ${evil}` } : null,
      });
      if (route === 'POST /videos' || /^POST \/videos\/(edits|extensions|.*\/remix)$/.test(route)) {
        paid[mode] = (paid[mode] ?? 0) + 1;
        if (mode === 'noid') return send(200, { object: 'video', status: 'queued' });
        if (mode === 'junk') return send(200, job('video_junk_1', 'queued'));
        return send(200, job(mode === 'echo' ? 'video_echo_1' : 'video_forge_1', 'queued'));
      }
      if (route === 'GET /videos') return send(200, { object: 'list', data: mode === 'noid' ? [] : [job(`video_${mode}_1`, mode === 'junk' ? 'completed' : 'failed')], has_more: false, first_id: null, last_id: null });
      const m = /^(GET|DELETE) \/videos\/([^/]+)(\/content)?$/.exec(route);
      if (m && m[3]) {
        if (mode === 'junk') {
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '17' });
          return res.end('this is not mp4!\n');
        }
        return send(404, { error: { message: `no content ${evil}`, type: 'invalid_request_error', code: 'not_found' } });
      }
      if (m && m[1] === 'DELETE') return send(mode === 'echo' ? 400 : 200, mode === 'echo' ? { error: { message: `denied ${evil}`, type: 'x', code: auth } } : { id: m[2], object: 'video.deleted', deleted: true });
      if (m) return send(200, job(m[2], mode === 'junk' ? 'completed' : 'failed'), mode === 'echo' ? { 'x-echo': auth } : {});
      return send(404, { error: { message: `unknown route ${route} ${evil}`, type: 'invalid_request_error', code: null } });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: (mode) => `http://127.0.0.1:${port}/${mode}/v1`,
    paid: (mode) => paid[mode] ?? 0,
    stop: () => new Promise((r) => server.close(r)),
  };
}

async function snapshot(dir) {
  const out = new Map();
  let entries = [];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return out;
  }
  for (const d of entries) {
    const abs = path.join(d.parentPath ?? d.path, d.name);
    const rel = path.relative(dir, abs);
    if (d.isFile()) out.set(rel, sha(await readFile(abs)));
    else out.set(rel, d.isSymbolicLink() ? 'link' : 'dir');
  }
  return out;
}

function diff(a, b) {
  const changed = [];
  for (const [k, v] of b) if (a.get(k) !== v) changed.push(k);
  for (const k of a.keys()) if (!b.has(k)) changed.push(`${k} (removed)`);
  return changed;
}

const STACK = /^\s+at .+(\(|file:\/\/|node:|\.js:\d+)/m;
// Control characters other than \n and \t (NO_COLOR is set, so no colour codes are expected).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x9b]/;

async function filesWithNeedle(dir, needle) {
  const hits = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const d of entries) {
    if (!d.isFile()) continue;
    const abs = path.join(d.parentPath ?? d.path, d.name);
    if ((await readFile(abs)).includes(needle)) hits.push(abs);
  }
  return hits;
}

async function runCase(k) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-hostile-'));
  const proj = path.join(root, 'project');
  const outside = path.join(root, 'outside');
  await mkdir(proj);
  await mkdir(outside);
  await writeFile(path.join(outside, '.env'), `OPENAI_API_KEY=${CANARY_KEY}\nDB_PASSWORD=hunter2-outside\n`);
  await writeFile(path.join(outside, 'secret.png'), SECRET_PNG);
  await writeFile(path.join(outside, 'clip.mp4'), CLIP);
  // Taken at the first run, after the case has set up its own files outside
  // (a real.yaml to link to, an empty folder to point .vidbuild at).
  let outsideBefore;
  const rootBefore = new Set(await readdir(root));
  const userFiles = new Map();
  const caseProblems = [];
  const runs = [];
  const fail = (kind, msg) => caseProblems.push({ kind, msg });
  const c = {
    proj,
    p: (rel) => path.join(proj, rel),
    o: (rel) => path.join(outside, rel),
    emu: () => ['--base-url', emulator.baseURL],
    fail,
    manifest: (text) => writeFile(path.join(proj, 'videos.yaml'), text),
    userFile: async (rel, text) => {
      await mkdir(path.dirname(path.join(proj, rel)), { recursive: true });
      await writeFile(path.join(proj, rel), text);
      userFiles.set(rel, sha(Buffer.from(text)));
    },
    run: async (args, { paid = 0, fake: fakeMode, env = {}, timeoutMs = 90_000, killWhen } = {}) => {
      outsideBefore ??= await snapshot(outside);
      const paidBefore = fakeMode ? fake.paid(fakeMode) : countRequests(emulator.stats(), PAID_ROUTES) + countRequests(slowEmulator.stats(), PAID_ROUTES);
      const r = await runCli(args, { cwd: proj, env, timeoutMs, killWhen });
      const paidNow = (fakeMode ? fake.paid(fakeMode) : countRequests(emulator.stats(), PAID_ROUTES) + countRequests(slowEmulator.stats(), PAID_ROUTES)) - paidBefore;
      const out = `${r.stdout}${r.stderr}`;
      const what = `vidbuild ${args.filter((a) => !a.startsWith('http')).join(' ')}`;
      totals.runs++;
      if (r.hung) fail('hang', `${what}: hung`);
      else if (STACK.test(out)) fail('stack', `${what}: a stack trace (exit ${r.code})`);
      else if (r.code === 70) fail('internal', `${what}: exit 70`);
      else if (!r.killedByUs && r.code === 1) totals.cleanErrors++;
      else if (r.code === 0) totals.succeeded++;
      if (out.includes(CANARY_KEY) || out.includes('hunter2-outside')) fail('secret', `${what}: a secret in the output`);
      if (out.includes('root:x:0:0')) fail('outside', `${what}: /etc/passwd content in the output`);
      if (CONTROL.test(out)) fail('control', `${what}: a raw control character in the output`);
      if (out.split('\n').some((l) => l.length > 8192)) fail('long', `${what}: an output line over 8 KiB`);
      if (paidNow > paid) fail('paid', `${what}: ${paidNow} paid requests (allowed ${paid})`);
      runs.push({ args: what, code: r.code, paid: paidNow, first: (r.stderr.trim().split('\n')[0] ?? '').slice(0, 200) });
      return r;
    },
  };
  try {
    await k.fn(c);
  } catch (err) {
    fail('rig', `the case itself failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const changed = outsideBefore === undefined ? [] : diff(outsideBefore, await snapshot(outside));
  if (changed.length > 0) fail('outside', `outside/ changed: ${changed.slice(0, 5).join(', ')}`);
  const extra = (await readdir(root)).filter((n) => !rootBefore.has(n));
  if (extra.length > 0) fail('outside', `created next to the project: ${extra.join(', ')}`);
  for (const [rel, want] of userFiles) {
    const now = await readFile(path.join(proj, rel)).then(sha, () => 'missing');
    if (now !== want) fail('user', `${rel} (the user's file) was ${now === 'missing' ? 'removed' : 'overwritten'}`);
  }
  const leaks = (await filesWithNeedle(proj, CANARY_KEY)).concat(await filesWithNeedle(emuDir, CANARY_KEY), await filesWithNeedle(slowEmuDir, CANARY_KEY));
  if (leaks.length > 0) fail('secret', `the API key written to ${leaks.map((f) => path.relative(root, f)).join(', ')}`);
  if (!opts.keep) await rm(root, { recursive: true, force: true }).catch(() => undefined);
  return { caseProblems, runs };
}

const kindTotal = { stack: 'stackTraces', internal: 'internalErrors', hang: 'hangs', outside: 'outsideTouched', secret: 'secretsFound', user: 'userFilesOverwritten', control: 'rawControlChars', long: 'longLines', paid: 'excessPaid' };
try {
  for (const k of cases) {
    if (opts.only !== '' && !k.name.includes(opts.only)) continue;
    if (k.rootOnly && !isRoot) {
      totals.skipped++;
      log(`  - ${k.name}: skipped (needs root for mount)`);
      continue;
    }
    totals.cases++;
    const t0 = Date.now();
    const { caseProblems, runs } = await runCase(k);
    for (const p of caseProblems) {
      const key = kindTotal[p.kind];
      if (key) totals[key]++;
      problems.push(`${k.name}: ${p.msg}`);
    }
    results.push({ name: k.name, ok: caseProblems.length === 0, runs });
    log(`  ${caseProblems.length === 0 ? '✓' : '✗'} ${k.name} (${runs.length} runs, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    for (const p of caseProblems) log(`      ${p.kind}: ${p.msg}`);
  }
} finally {
  await emulator.stop();
  await slowEmulator.stop();
  await fake.stop();
  await rm(emuDir, { recursive: true, force: true });
  await rm(slowEmuDir, { recursive: true, force: true });
}

const summary = { ...totals, problems: problems.length, seconds: Math.round((Date.now() - started) / 1000) };
log('');
log(`hostile review: ${totals.cases} cases, ${totals.runs} runs (${totals.cleanErrors} clean errors, ${totals.succeeded} succeeded), ${totals.skipped} skipped, ${summary.seconds} s`);
log(`  stack traces ${totals.stackTraces}, internal errors ${totals.internalErrors}, hangs ${totals.hangs}, files outside touched ${totals.outsideTouched}, secrets found ${totals.secretsFound}, user files overwritten ${totals.userFilesOverwritten}, raw control chars ${totals.rawControlChars}, lines over 8 KiB ${totals.longLines}, excess paid requests ${totals.excessPaid}`);
if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = problems.length === 0 ? 0 : 1;
