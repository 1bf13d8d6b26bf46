// Watch benchmark: (1) latency from saving the manifest to the re-plan being
// printed, median of 20 saves (goal < 300 ms, debounce of 120 ms included);
// (2) the watcher's CPU at idle over a project referencing 1,000 files
// (goal < 1% of one core), read from /proc/PID/stat of the watch process.
//
// Both run `vidbuild watch --backend emulator --max-cost 0` as a real child
// process: the budget of 0 holds every paid step, so no job runs and what is
// measured is the watch loop itself (debounce, load, hash, plan, print).
// VIDBUILD_BIN picks another build of the CLI.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPng } from './png.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = process.env.VIDBUILD_BIN ?? path.join(root, 'bin', 'vidbuild.js');
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

function startWatch(dir) {
  const child = spawn(process.execPath, [bin, 'watch', '--backend', 'emulator', '--max-cost', '0', '-f', 'videos.yaml'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines = [];
  const stamps = [];
  const waiters = new Set();
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    const now = performance.now();
    buffer += chunk.toString('utf8');
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, i));
      stamps.push(now);
      buffer = buffer.slice(i + 1);
    }
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const waitFor = (re, from = 0) =>
    new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < lines.length; i++) {
          if (re.test(lines[i])) {
            waiters.delete(check);
            resolve(i);
            return;
          }
        }
        if (child.exitCode !== null) reject(new Error(`watch exited:\n${lines.join('\n')}\n${stderr}`));
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    lines,
    stamps,
    waitFor,
    async quit() {
      child.stdin.write('q\n');
      await exited;
    },
  };
}

async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const IDLE = /^watching \d+ file\(s\)/;
const REPLAN = /^(no changes|re-plan: )/;

// (1) Save → re-plan printed.
async function latency() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-bench-watch-'));
  try {
    const manifest = (n) =>
      `version: 1\ndefaults: { model: sora-2, size: 1280x720, seconds: 4 }\nvideos:\n  clip:\n    prompt: A kite over a windy beach. # save ${n}\n`;
    await writeFile(path.join(dir, 'videos.yaml'), manifest(0));
    const w = startWatch(dir);
    let at = await w.waitFor(IDLE);
    const samples = [];
    for (let n = 1; n <= 20; n++) {
      const t0 = performance.now();
      await writeFile(path.join(dir, 'videos.yaml'), manifest(n));
      const replan = await w.waitFor(REPLAN, at + 1);
      samples.push(w.stamps[replan] - t0);
      at = await w.waitFor(IDLE, replan);
    }
    await w.quit();
    return samples;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// (2) Idle CPU over 1,000 referenced files.
async function idleCpu(files, seconds) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-bench-watch-idle-'));
  try {
    await mkdir(path.join(dir, 'refs'));
    const lines = ['version: 1', 'defaults: { model: sora-2, size: 1280x720, seconds: 4 }', 'videos:'];
    for (let i = 0; i < files; i++) {
      await writeFile(path.join(dir, 'refs', `ref-${i}.png`), benchPng(1280, 720, `reference ${i}`));
      lines.push(`  clip_${i}: { prompt: "Clip ${i}.", input_reference: refs/ref-${i}.png }`);
    }
    await writeFile(path.join(dir, 'videos.yaml'), `${lines.join('\n')}\n`);
    const w = startWatch(dir);
    const t0 = performance.now();
    const idle = await w.waitFor(IDLE);
    const startupMs = performance.now() - t0;
    const watching = Number(/watching (\d+)/.exec(w.lines[idle])[1]);
    const c0 = await cpuTicks(w.child.pid);
    const s0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const c1 = await cpuTicks(w.child.pid);
    const wall = (performance.now() - s0) / 1000;
    // A save after the idle period still works (the watcher is alive, not just quiet).
    const t1 = performance.now();
    await writeFile(path.join(dir, 'refs', 'ref-7.png'), benchPng(1280, 720, 'reference 7, edited'));
    const replan = await w.waitFor(REPLAN, idle + 1);
    const afterIdleMs = w.stamps[replan] - t1;
    await w.quit();
    return { watching, startupMs, cpuPercent: ((c1 - c0) / TICKS_PER_SECOND / wall) * 100, wall, afterIdleMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const samples = await latency();
const med = median(samples);
console.log('Save → re-plan printed (20 saves of the manifest, debounce 120 ms included)');
console.table([
  {
    'median (ms)': med.toFixed(0),
    'min (ms)': Math.min(...samples).toFixed(0),
    'max (ms)': Math.max(...samples).toFixed(0),
    goal: '< 300 ms',
    ok: med < 300 ? 'yes' : 'NO',
  },
]);

const idle = await idleCpu(1000, 10);
console.log('Watcher at idle over 1,000 referenced files (10 s sample of /proc/PID/stat)');
console.table([
  {
    'files watched': idle.watching,
    'first cycle (ms)': idle.startupMs.toFixed(0),
    'idle CPU (% of a core)': idle.cpuPercent.toFixed(2),
    'save after idle → re-plan (ms)': idle.afterIdleMs.toFixed(0),
    goal: '< 1%',
    ok: idle.cpuPercent < 1 ? 'yes' : 'NO',
  },
]);
