// Takes docs/preview.png: the preview page of `vidbuild watch --preview` on
// the quickstart project, captured while a new version of the first clip is
// generating (two earlier versions in the cache). Not a test; run by hand:
//   npm run build && node test/watch/preview-screenshot.mjs [out.png]
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.VIDBUILD_BIN ?? path.join(root, 'bin', 'vidbuild.js');
const outFile = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'preview.png'));
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-screenshot-'));
await fs.cp(path.join(root, 'examples', 'quickstart'), dir, { recursive: true });
for (const generated of ['videos', 'videos.lock', '.vidbuild']) await fs.rm(path.join(dir, generated), { recursive: true, force: true });
const manifest = path.join(dir, 'videos.yaml');
const original = await fs.readFile(manifest, 'utf8');
const edit = (words) => fs.writeFile(manifest, original.replace('slow dolly in, waves below.', `slow dolly in, ${words}.`));

const child = spawn(process.execPath, [bin, 'watch', '--backend', 'emulator', '--preview'], {
  cwd: dir,
  env: { ...process.env, NO_COLOR: '1', VIDBUILD_EMULATOR_JOB_SECONDS: '6', VIDBUILD_EMULATOR_FPS: '12' },
  stdio: ['pipe', 'pipe', 'inherit'],
});
let out = '';
const waiters = [];
child.stdout.on('data', (d) => {
  out += d;
  for (const w of waiters.splice(0)) w();
});
const waitFor = async (re, from = 0) => {
  for (;;) {
    const m = re.exec(out.slice(from));
    if (m) return from + m.index + m[0].length;
    await new Promise((r) => waiters.push(r));
  }
};
try {
  await waitFor(/preview: http:\S+/);
  const url = /preview: (http:\S+)/.exec(out)[1];
  let at = await waitFor(/watching \d+ file/);
  await edit('storm clouds rolling in');
  at = await waitFor(/watching \d+ file/, at);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 980 } });
  await page.goto(url);
  await page.locator('article.card').nth(2).waitFor();
  await edit('golden hour light');
  const bar = page.locator('article.card[data-target="lighthouse"] .bar');
  await page.locator('article.card[data-target="lighthouse"] .status', { hasText: 'in progress' }).waitFor({ timeout: 60_000 });
  for (;;) {
    if (Number(await bar.getAttribute('aria-valuenow')) >= 40) break;
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(300); // let the bar's transition settle
  await page.screenshot({ path: outFile, fullPage: true });
  console.log(`wrote ${outFile}`);
  await browser.close();
} finally {
  child.stdin.write('q\n');
  await new Promise((r) => child.on('exit', r));
  await fs.rm(dir, { recursive: true, force: true });
}
